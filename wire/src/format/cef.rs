//! ArcSight CEF: `CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|` then extensions `key=value` separated by spaces, with `\\=`, `\\\\` (and `\\|` in the header) escaped.

use crate::fields::Fields;
use crate::reason::Reason;

/// A shard's cef reader, kept between frames so that reading allocates nothing.
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
