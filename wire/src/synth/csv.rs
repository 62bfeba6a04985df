//! Synthetic web records in the csv format.

use super::web::Web;

/// Appends one web record and its LF.
pub(super) fn web(_w: &Web, _out: &mut String) {}
