//! One error type for every failure a caller can cause. Each message names the op,
//! the shapes or values involved, and what to do instead.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Shapes that cannot be combined, e.g. a matmul with different inner dimensions.
    Shape { op: &'static str, msg: String },
    /// A dim argument outside `[-ndim, ndim)`.
    Dim { op: &'static str, dim: i64, ndim: usize },
    /// A dtype the op does not accept.
    DType { op: &'static str, msg: String },
    /// A value argument out of its domain (negative size, bad index, bad probability...).
    Value { op: &'static str, msg: String },
    /// A handle that does not name a live tensor.
    Freed { op: &'static str, id: u32 },
    /// An allocation that the memory cannot satisfy.
    OutOfMemory { op: &'static str, bytes: usize },
    /// Misuse of autograd: backward twice, in-place on a leaf, grad of a non-scalar...
    Autograd { op: &'static str, msg: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Error {
        Error::Shape { op, msg: msg.into() }
    }
    pub fn dtype(op: &'static str, msg: impl Into<String>) -> Error {
        Error::DType { op, msg: msg.into() }
    }
    pub fn value(op: &'static str, msg: impl Into<String>) -> Error {
        Error::Value { op, msg: msg.into() }
    }
    pub fn autograd(op: &'static str, msg: impl Into<String>) -> Error {
        Error::Autograd { op, msg: msg.into() }
    }
    /// Short machine-readable kind, used by the TypeScript layer as `error.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "shape",
            Error::Dim { .. } => "dim",
            Error::DType { .. } => "dtype",
            Error::Value { .. } => "value",
            Error::Freed { .. } => "freed",
            Error::OutOfMemory { .. } => "oom",
            Error::Autograd { .. } => "autograd",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, msg } | Error::DType { op, msg } | Error::Value { op, msg } | Error::Autograd { op, msg } => {
                write!(f, "{}: {}", op, msg)
            }
            Error::Dim { op, dim, ndim } => {
                if *ndim == 0 {
                    write!(f, "{}: dim {} is out of range for a 0-d tensor (only dim 0 or -1 may name it)", op, dim)
                } else {
                    write!(
                        f,
                        "{}: dim {} is out of range for a tensor with {} dims (expected a dim in [{}, {}])",
                        op, dim, ndim, -(*ndim as i64), *ndim as i64 - 1
                    )
                }
            }
            Error::Freed { op, id } => write!(
                f,
                "{}: tensor #{} has been freed; keep() it or return it from its scope to use it later",
                op, id
            ),
            Error::OutOfMemory { op, bytes } => write!(
                f,
                "{}: out of memory allocating {} bytes; use smaller batches or free tensors you no longer need",
                op, bytes
            ),
        }
    }
}

/// Formats a shape as PyTorch prints it in messages: `[2, 3]`.
pub fn fmt_shape(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_op_and_fix() {
        let e = Error::Dim { op: "sum", dim: 3, ndim: 2 };
        assert_eq!(e.to_string(), "sum: dim 3 is out of range for a tensor with 2 dims (expected a dim in [-2, 1])");
        assert_eq!(fmt_shape(&[2, 3]), "[2, 3]");
        assert!(Error::Freed { op: "add", id: 7 }.to_string().contains("keep()"));
    }
}
