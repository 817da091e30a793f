//! pmacct's aggregation model: primitives, per-plugin tables keyed by the masked record, time bins.

pub mod primitive;

pub use primitive::{Primitive, PrimitiveSet, UnknownPrimitive};
