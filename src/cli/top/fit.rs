//! Fitting the tables and lines of `ztel top` into the terminal it has. ratatui shrinks columns
//! that do not fit and cuts their texts, right-aligned ones from the left: 128.4 MiB read as
//! `28 MiB`. Here what does not fit is left out whole instead, and said to be: columns that
//! matter least first, rows past the table's height (its totals row kept), labels shortened
//! with `…`; the block's title counts what is hidden.

use ratatui::layout::{Constraint, Flex, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

/// Blanks between columns.
const SPACING: u16 = 1;
/// A label column is not shortened below this (or its own length, when shorter).
const LABEL_MIN: u16 = 6;
/// The mark of a shortened label, and of line pieces left out.
pub const ELIDED: &str = "…";

/// One column: its header, and how long it is kept when the width is short.
pub struct Column {
    pub header: &'static str,
    /// Higher stays longer; the first column is always kept.
    pub keep: u8,
}

/// A cell's text and style.
pub type Text = (String, Style);

/// A table to fit: the first column holds labels (left-aligned, shortened with `…` when
/// `elide`), the others numbers (right-aligned, never cut).
pub struct Grid {
    pub title: String,
    pub columns: Vec<Column>,
    pub elide: bool,
    pub rows: Vec<Vec<Text>>,
    /// A last row kept whatever else is hidden (the totals).
    pub total: Option<Vec<Text>>,
}

fn width(text: &str) -> u16 {
    u16::try_from(Span::raw(text).width()).unwrap_or(u16::MAX)
}

/// `text` in `max` columns at most: whole, or its start and `…`.
pub fn elide(text: &str, max: u16) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let Some(room) = max.checked_sub(width(ELIDED)) else {
        return String::new();
    };
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if width(&text[..i + c.len_utf8()]) > room {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{ELIDED}", &text[..end])
}

/// Which columns are shown and how wide, in `room` columns: the least kept ones are left out
/// until the rest fit. Empty when not even the first fits.
fn choose(needs: &[u16], keeps: &[u8], label_min: u16, room: u16) -> Vec<(usize, u16)> {
    let mut shown: Vec<usize> = (0..needs.len()).collect();
    let total = |shown: &[usize]| -> u32 {
        let spacing = u32::from(SPACING) * shown.len().saturating_sub(1) as u32;
        let widths: u32 = shown
            .iter()
            .map(|&c| u32::from(if c == 0 { label_min } else { needs[c] }))
            .sum();
        widths + spacing
    };
    while total(&shown) > u32::from(room) {
        // The least kept, and of those the rightmost; never the first.
        let drop = shown
            .iter()
            .enumerate()
            .skip(1)
            .min_by_key(|(at, &c)| (keeps[c], usize::MAX - at))
            .map(|(at, _)| at);
        match drop {
            Some(at) => {
                shown.remove(at);
            }
            None => return Vec::new(),
        }
    }
    // The label column takes what is left, up to what it needs.
    let spare = u32::from(room) - total(&shown);
    shown
        .into_iter()
        .map(|c| {
            let w = if c == 0 {
                let grown = u32::from(label_min) + spare;
                u16::try_from(grown.min(u32::from(needs[0]))).unwrap_or(needs[0])
            } else {
                needs[c]
            };
            (c, w)
        })
        .collect()
}

/// Draws `grid` in `area`.
pub fn draw_grid(frame: &mut Frame, area: Rect, grid: Grid) {
    let inner_w = area.width.saturating_sub(2);
    let inner_h = area.height.saturating_sub(2);
    let all_rows = || grid.rows.iter().chain(grid.total.as_ref());
    let needs: Vec<u16> = grid
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            all_rows()
                .filter_map(|r| r.get(c))
                .map(|(t, _)| width(t))
                .chain([width(col.header)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let keeps: Vec<u8> = grid.columns.iter().map(|c| c.keep).collect();
    let label_min = match grid.elide {
        true => needs.first().copied().unwrap_or(0).min(LABEL_MIN),
        false => needs.first().copied().unwrap_or(0),
    };
    let shown = choose(&needs, &keeps, label_min, inner_w);
    // One line for the header; the rest for rows, the totals row last.
    let room = usize::from(inner_h.saturating_sub(1));
    let total_shown = grid.total.is_some() && room > 0;
    let body_room = room - usize::from(total_shown);
    let body = grid.rows.len().min(body_room);
    let hidden_rows = grid.rows.len() - body + usize::from(grid.total.is_some() && !total_shown);
    let hidden_columns = grid.columns.len() - shown.len();

    let cell = |c: usize, w: u16, text: &Text| -> Cell<'static> {
        let line = if c == 0 {
            let shown = if grid.elide {
                elide(&text.0, w)
            } else {
                text.0.clone()
            };
            Line::from(shown)
        } else {
            Line::from(text.0.clone()).right_aligned()
        };
        Cell::new(line).style(text.1)
    };
    let to_row = |r: &Vec<Text>| {
        Row::new(
            shown
                .iter()
                .filter_map(|&(c, w)| r.get(c).map(|t| cell(c, w, t))),
        )
    };
    let mut rows: Vec<Row> = grid.rows[..body].iter().map(to_row).collect();
    if let (true, Some(total)) = (total_shown, &grid.total) {
        rows.push(to_row(total).style(Style::new().add_modifier(Modifier::BOLD)));
    }
    let header = Row::new(shown.iter().map(|&(c, w)| {
        let text = (grid.columns[c].header.to_owned(), Style::new());
        cell(c, w, &text)
    }))
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths: Vec<Constraint> = shown.iter().map(|&(_, w)| Constraint::Length(w)).collect();
    let title = title(&grid.title, hidden_rows, hidden_columns, area.width);
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(SPACING)
        .flex(Flex::Start)
        .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}

/// ` Title ` and, when something is hidden, how much: ` Title (2 rows, 1 column hidden) `. When
/// that does not fit between the corners, the count goes, then the title is shortened.
fn title(name: &str, rows: usize, columns: usize, area_width: u16) -> String {
    let room = area_width.saturating_sub(2);
    let plural = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let hidden: Vec<String> = [(rows, "row"), (columns, "column")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| plural(n, what))
        .collect();
    if !hidden.is_empty() {
        let full = format!(" {name} ({} hidden) ", hidden.join(", "));
        if width(&full) <= room {
            return full;
        }
        let short = format!(" {name} ({ELIDED}) ");
        if width(&short) <= room {
            return short;
        }
    }
    format!(" {} ", elide(name, room.saturating_sub(2)))
}

/// The pieces of a line that fit in `room` columns, each whole, in order; `…` says that some
/// were left out (when there is room for it).
pub fn fit_line(pieces: Vec<Vec<Span<'static>>>, room: u16) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used: u16 = 0;
    for piece in pieces {
        let w = piece
            .iter()
            .map(|s| width(&s.content))
            .fold(0u16, u16::saturating_add);
        if used.saturating_add(w) > room {
            // Apart, so that it is not read as part of the last figure.
            let mark = format!(" {ELIDED}");
            if used.saturating_add(width(&mark)) <= room {
                spans.push(Span::raw(mark));
            }
            break;
        }
        used += w;
        spans.extend(piece);
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_shortened_with_a_mark() {
        assert_eq!(elide("zpa.user_activity", 20), "zpa.user_activity");
        assert_eq!(elide("zpa.user_activity", 8), "zpa.use…");
        assert_eq!(elide("zpa", 1), "…");
        assert_eq!(elide("zpa", 0), "");
    }

    #[test]
    fn the_least_kept_columns_go_first() {
        // label 10 (may shrink to 6), then 8, 8, 8 with keeps 3, 1, 2.
        let needs = [10, 8, 8, 8];
        let keeps = [0, 3, 1, 2];
        let all = choose(&needs, &keeps, 6, 40);
        assert_eq!(all, [(0, 10), (1, 8), (2, 8), (3, 8)]);
        // 6+8+8+8 + 3 blanks = 33: everything, the label shortened.
        assert_eq!(choose(&needs, &keeps, 6, 33)[0], (0, 6));
        // 32: the column kept least (2) goes; the label grows back by what is left.
        assert_eq!(choose(&needs, &keeps, 6, 32), [(0, 10), (1, 8), (3, 8)]);
        assert_eq!(choose(&needs, &keeps, 6, 15), [(0, 6), (1, 8)]);
        assert_eq!(choose(&needs, &keeps, 6, 5), []);
    }

    #[test]
    fn line_pieces_are_whole_or_gone() {
        let pieces = || {
            ["devices 123456", "   p50 431 µs", "   channel 1000/65536"]
                .map(|t| vec![Span::raw(t)])
                .to_vec()
        };
        assert_eq!(
            fit_line(pieces(), 80).to_string(),
            pieces()
                .concat()
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        );
        assert_eq!(
            fit_line(pieces(), 30).to_string(),
            "devices 123456   p50 431 µs …"
        );
        assert_eq!(fit_line(pieces(), 5).to_string(), " …");
    }
}
