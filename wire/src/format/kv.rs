//! Name-value pairs: Splunk's `key=value` separated by tabs or spaces (values possibly quoted), and NetWitness's `^^`-separated variant.

use crate::fields::Fields;
use crate::reason::Reason;

/// A shard's kv reader, kept between frames so that reading allocates nothing.
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
