//! QRadar LEEF 1.0 and 2.0: `LEEF:Version|Vendor|Product|Version|EventID|` then attributes `key=value`, separated by a tab or, in 2.0, by the delimiter the header declares.

use crate::fields::Fields;
use crate::reason::Reason;

/// A shard's leef reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {}

impl Reader {
    /// Reads the record that `text` holds (it starts at the format's first byte) into `fields`;
    /// true when the values are plain text.
    pub fn read<'a>(
        &'a mut self,
        _text: &'a [u8],
        _fields: &mut Fields<'a>,
    ) -> Result<bool, Reason> {
        Err(Reason::UnknownFormat)
    }
}
