//! In-place updates for optimizers and initialisers: `add_`, `sub_`, `mul_`, `copy_`,
//! `fill_`, `zero_`. Allowed on leaves under noGrad and on tensors without history;
//! the storage is copied first if a view or a saved graph value still shares it.

use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::ops::layout::expand_values;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InPlace {
    /// self += alpha · other
    Add { alpha: f32 },
    /// self *= other
    Mul,
    /// self = other
    Copy,
}

/// `other` broadcast to exactly `shape`, in `dtype`; it may not grow `shape`.
fn operand(op: &'static str, other: &Tensor, shape: &[usize], dtype: DType) -> Result<Tensor> {
    let b = broadcast_shapes(op, shape, &other.shape)?;
    if b != shape {
        return Err(Error::shape(
            op,
            format!("the result of shape {} cannot be stored in a tensor of shape {} in place", fmt_shape(&b), fmt_shape(shape)),
        ));
    }
    let o = expand_values(other, shape)?;
    match dtype {
        DType::F32 => o.to_f32(op),
        DType::I32 => o.to_i32(op),
    }
}

impl Context {
    pub fn inplace(&mut self, kind: InPlace, a: Id, b: Id) -> Result<()> {
        let op = match kind {
            InPlace::Add { .. } => "add_",
            InPlace::Mul => "mul_",
            InPlace::Copy => "copy_",
        };
        let x = self.get(op, a)?;
        let y = operand(op, &self.get(op, b)?, &x.shape, x.dtype())?;
        self.write(op, a, |t| {
            match t.dtype() {
                DType::F32 => {
                    let ys = y.f32s(op)?;
                    let xs = t.f32s_mut(op)?;
                    match kind {
                        InPlace::Add { alpha } => xs.iter_mut().zip(ys).for_each(|(p, &q)| *p += alpha * q),
                        InPlace::Mul => xs.iter_mut().zip(ys).for_each(|(p, &q)| *p *= q),
                        InPlace::Copy => xs.copy_from_slice(ys),
                    }
                }
                DType::I32 => {
                    let ys = y.i32s(op)?;
                    let xs = t.i32s_mut(op)?;
                    match kind {
                        InPlace::Add { alpha } => xs.iter_mut().zip(ys).for_each(|(p, &q)| *p = p.wrapping_add((alpha * q as f32) as i32)),
                        InPlace::Mul => xs.iter_mut().zip(ys).for_each(|(p, &q)| *p = p.wrapping_mul(q)),
                        InPlace::Copy => xs.copy_from_slice(ys),
                    }
                }
            }
            Ok(())
        })
    }

    /// `fill_(value)`; `zero_()` is `fill_(0)`.
    pub fn fill_(&mut self, a: Id, value: f64) -> Result<()> {
        self.write("fill_", a, |t| {
            match t.dtype() {
                DType::F32 => t.f32s_mut("fill_")?.iter_mut().for_each(|x| *x = value as f32),
                DType::I32 => t.i32s_mut("fill_")?.iter_mut().for_each(|x| *x = value as i32),
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_protected_in_grad_mode() {
        let mut c = Context::new();
        let w = c.full(&[2], 1.0, DType::F32).unwrap();
        let g = c.full(&[2], 0.5, DType::F32).unwrap();
        c.set_requires_grad(w, true).unwrap();
        let e = c.inplace(InPlace::Add { alpha: -1.0 }, w, g).unwrap_err();
        assert!(e.to_string().contains("noGrad"));
        c.grad_enabled = false;
        c.inplace(InPlace::Add { alpha: -1.0 }, w, g).unwrap();
        assert_eq!(c.get("t", w).unwrap().f32s("t").unwrap(), &[0.5, 0.5]);
    }
}
