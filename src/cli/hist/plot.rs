//! The classic HdrHistogram percentile plot, as SVG: x = percentile on a log scale of 1/(1-p),
//! y = latency in µs on a log scale, one line per tag. Both axes are logarithmic so that a
//! per-record curve of tens of µs and a per-batch curve of milliseconds are both readable.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;

use super::HistError;

/// Draws the classic HdrHistogram percentile plot to `out` (SVG): x = percentile on a log scale
/// of 1/(1-p), y = latency in µs on a log scale, one line per histogram with a legend naming
/// its count, `title` on top. Empty histograms are left out.
pub fn plot_svg(
    out: &Path,
    title: &str,
    histograms: &BTreeMap<String, Histogram<u64>>,
) -> Result<(), HistError> {
    let svg = render_svg(title, histograms).map_err(|reason| HistError::Plot {
        path: out.to_owned(),
        reason,
    })?;
    std::fs::write(out, svg).map_err(|source| HistError::Write {
        path: out.to_owned(),
        source,
    })
}

/// Tableau 10: distinguishable, and readable on white.
const COLORS: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The points of a percentile curve: (1/(1-q), value), five steps per halving of the remaining
/// distance to 100 %, as HdrHistogram's `outputPercentileDistribution`. The final 100 % point has
/// no place on the axis and is left out (the curve has reached the max by then).
fn percentile_curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    histogram
        .iter_quantiles(5)
        .filter_map(|v| {
            let q = v.quantile_iterated_to();
            (q < 1.0).then(|| (1.0 / (1.0 - q), v.value_iterated_to().max(1) as f64))
        })
        .collect()
}

/// "0%", "90%", "99%", "99.9%", … for 1, 10, 100, 1000, …
fn percentile_label(x: f64) -> String {
    let nines = x.log10().round().max(0.0) as usize;
    match nines {
        0 => "0%".to_owned(),
        1 => "90%".to_owned(),
        2 => "99%".to_owned(),
        n => format!("99.{}%", "9".repeat(n - 2)),
    }
}

fn render_svg(
    title: &str,
    histograms: &BTreeMap<String, Histogram<u64>>,
) -> Result<String, String> {
    use plotters::prelude::*;

    let curves: Vec<(String, Vec<(f64, f64)>)> = histograms
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(tag, h)| (format!("{tag}: {} values", h.len()), percentile_curve(h)))
        .collect();
    let max_x = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    // At least up to 99.999 %, at most 99.99999 %.
    let decades = (max_x.log10().ceil() as i32).clamp(5, 7);
    let x_end = 10f64.powi(decades);
    let decade_points: Vec<f64> = (0..=decades).map(|d| 10f64.powi(d)).collect();
    let minor_points: Vec<f64> = (0..decades)
        .flat_map(|d| (2..10).map(move |m| f64::from(m) * 10f64.powi(d)))
        .collect();
    // From the decade below the smallest value to the decade above the largest (a log axis
    // has no 0: a value of 0 µs is drawn at 1).
    let nonempty = || histograms.values().filter(|h| !h.is_empty());
    let min_y = nonempty().map(|h| h.min().max(1)).min().unwrap_or(1) as f64;
    let max_y = nonempty().map(|h| h.max().max(1)).max().unwrap_or(1) as f64;
    let low = min_y.log10().floor() as i32;
    let high = (max_y.log10().ceil() as i32).max(low + 1);
    let y_points: Vec<f64> = (low..=high).map(|d| 10f64.powi(d)).collect();
    let (y_start, y_end) = (10f64.powi(low), 10f64.powi(high));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 28))
            .margin(20)
            .margin_right(45)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (1.0..x_end)
                    .log_scale()
                    .with_key_points(decade_points)
                    .with_light_points(minor_points),
                (y_start..y_end).log_scale().with_key_points(y_points),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .x_desc("percentile")
            .y_desc("latency (µs)")
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (tag, curve)) in curves.into_iter().enumerate() {
            let (r, g, b) = COLORS[i % COLORS.len()];
            let color = RGBColor(r, g, b);
            chart
                .draw_series(LineSeries::new(curve, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(tag)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 16, y + 4)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 18))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
