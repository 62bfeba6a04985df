//! Feed output formats: how a frame's values are written. Each format reads its frames into the
//! same [`Fields`](crate::fields::Fields), so that every format maps onto the same records.

pub mod json;
