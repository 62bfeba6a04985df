//! The records of the log types that carry their fields as they are ([`crate::event::columns`]):
//! `ts`, `kind`, the columns in table order, `tags`.

use jiff::Timestamp;

use super::json::Key;
use super::{begin, Writer};
use crate::event::columns::{time, Column, Ty};
use crate::event::{zpa_ip, Context, Kind};
use crate::fields::Fields;
use crate::key;

impl Writer {
    /// Appends the record of `kind` (a kind with columns) as one JSON line.
    #[allow(clippy::too_many_arguments)]
    pub fn columns(
        &mut self,
        kind: Kind,
        columns: &[Column],
        f: &Fields<'_>,
        ts: Timestamp,
        ctx: &Context<'_>,
        plain: bool,
        out: &mut Vec<u8>,
    ) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ts, &mut self.time);
        o.str(key!("kind"), kind.as_str());
        for column in columns {
            let key = Key(column.key);
            match column.ty {
                Ty::Text => o.text(key, f.text(column.field).as_ref()),
                Ty::Address => o.text(key, f.ip(column.field).as_ref()),
                Ty::ZpaAddress => o.text(key, zpa_ip(f, column.field).as_ref()),
                Ty::Number => o.opt_u64(key, f.u64(column.field)),
                Ty::Decimal => o.opt_f64(key, f.f64(column.field)),
                Ty::Id => o.id(key, f.u64(column.field)),
                Ty::Port => o.opt_u64(
                    key,
                    f.u64(column.field).filter(|p| (1..=65_535).contains(p)),
                ),
                Ty::Time => o.opt_time(key, time(kind, f, column.field, ctx)),
            }
        }
        o.raw(
            key!("tags"),
            if kind.is_zpa() {
                "[\"ZPA\"]"
            } else {
                "[\"ZIA\"]"
            },
        );
        o.end_line();
    }
}
