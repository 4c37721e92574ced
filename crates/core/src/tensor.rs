//! `Tensor`: a value (shared immutable buffer + shape) with no autograd attached.
//! Ops compute on these; `Context` wraps them with handles and graph recording.

use crate::buffer::{alloc_f32, alloc_i32, Buffer, DType};
use crate::error::{fmt_shape, Error, Result};
use crate::shape::numel;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub struct Tensor {
    pub buf: Rc<Buffer>,
    pub shape: Vec<usize>,
}

impl Tensor {
    pub fn from_f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { buf: Rc::new(Buffer::F32(data)), shape }
    }
    pub fn from_i32(shape: Vec<usize>, data: Vec<i32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { buf: Rc::new(Buffer::I32(data)), shape }
    }
    pub fn zeros(op: &'static str, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let n = numel(op, shape)?;
        Ok(Tensor { buf: Rc::new(Buffer::zeros(op, dtype, n)?), shape: shape.to_vec() })
    }
    pub fn full(op: &'static str, shape: &[usize], value: f32) -> Result<Tensor> {
        let mut v = alloc_f32(op, numel(op, shape)?)?;
        v.iter_mut().for_each(|x| *x = value);
        Ok(Tensor::from_f32(shape.to_vec(), v))
    }
    pub fn scalar(op: &'static str, value: f32) -> Result<Tensor> {
        Tensor::full(op, &[], value)
    }
    pub fn dtype(&self) -> DType {
        self.buf.dtype()
    }
    pub fn numel(&self) -> usize {
        self.buf.len()
    }
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    /// The f32 elements, or an error naming the op when the tensor holds int32.
    pub fn f32s(&self, op: &'static str) -> Result<&[f32]> {
        match &*self.buf {
            Buffer::F32(v) => Ok(v),
            Buffer::I32(_) => Err(Error::dtype(
                op,
                format!("expected a float32 tensor but got int32 of shape {}; call .float() first", fmt_shape(&self.shape)),
            )),
        }
    }
    /// The i32 elements, or an error naming the op when the tensor holds float32.
    pub fn i32s(&self, op: &'static str) -> Result<&[i32]> {
        match &*self.buf {
            Buffer::I32(v) => Ok(v),
            Buffer::F32(_) => Err(Error::dtype(
                op,
                format!("expected an int32 tensor but got float32 of shape {}; call .int() first", fmt_shape(&self.shape)),
            )),
        }
    }
    /// Same elements, new shape, shared storage (buffers are never written while shared).
    pub fn with_shape(&self, shape: Vec<usize>) -> Tensor {
        Tensor { buf: self.buf.clone(), shape }
    }
    /// The tensor as float32 (shared when it already is).
    pub fn to_f32(&self, op: &'static str) -> Result<Tensor> {
        match &*self.buf {
            Buffer::F32(_) => Ok(self.clone()),
            Buffer::I32(v) => {
                let mut o = alloc_f32(op, v.len())?;
                for (d, &s) in o.iter_mut().zip(v.iter()) {
                    *d = s as f32;
                }
                Ok(Tensor::from_f32(self.shape.clone(), o))
            }
        }
    }
    /// The tensor as int32, truncating toward zero like PyTorch's `.int()`;
    /// NaN becomes 0 and out-of-range values saturate instead of being undefined.
    pub fn to_i32(&self, op: &'static str) -> Result<Tensor> {
        match &*self.buf {
            Buffer::I32(_) => Ok(self.clone()),
            Buffer::F32(v) => {
                let mut o = alloc_i32(op, v.len())?;
                for (d, &s) in o.iter_mut().zip(v.iter()) {
                    *d = s as i32;
                }
                Ok(Tensor::from_i32(self.shape.clone(), o))
            }
        }
    }
    /// Mutable f32 storage, copying first when the buffer is shared (copy on write).
    pub fn f32s_mut(&mut self, op: &'static str) -> Result<&mut [f32]> {
        if Rc::get_mut(&mut self.buf).is_none() {
            self.buf = Rc::new(self.buf.try_clone(op)?);
        }
        match Rc::get_mut(&mut self.buf) {
            Some(Buffer::F32(v)) => Ok(v),
            Some(Buffer::I32(_)) => Err(Error::dtype(op, "in-place float op on an int32 tensor; call .float() first")),
            None => Err(Error::value(op, "buffer is shared")), // unreachable: the clone above is unique
        }
    }
    /// Mutable i32 storage, copying first when the buffer is shared.
    pub fn i32s_mut(&mut self, op: &'static str) -> Result<&mut [i32]> {
        if Rc::get_mut(&mut self.buf).is_none() {
            self.buf = Rc::new(self.buf.try_clone(op)?);
        }
        match Rc::get_mut(&mut self.buf) {
            Some(Buffer::I32(v)) => Ok(v),
            Some(Buffer::F32(_)) => Err(Error::dtype(op, "in-place int op on a float32 tensor")),
            None => Err(Error::value(op, "buffer is shared")),
        }
    }
}

/// `new_f32` for an `f` that assigns every element: a recycled buffer is handed over with its
/// old values instead of being zeroed first (zeroing was ~4 % of a CNN train step).
#[inline(always)]
pub fn new_f32_overwritten(op: &'static str, shape: &[usize], f: impl FnOnce(&mut [f32])) -> Result<Tensor> {
    let mut v = crate::buffer::scratch_f32(op, numel(op, shape)?)?;
    f(&mut v);
    Ok(Tensor::from_f32(shape.to_vec(), v))
}

/// A float32 tensor built from a fresh pooled vector filled by `f`.
#[inline(always)]
pub fn new_f32(op: &'static str, shape: &[usize], f: impl FnOnce(&mut [f32])) -> Result<Tensor> {
    let mut v = alloc_f32(op, numel(op, shape)?)?;
    f(&mut v);
    Ok(Tensor::from_f32(shape.to_vec(), v))
}

/// An int32 tensor built from a fresh pooled vector filled by `f`.
#[inline(always)]
pub fn new_i32(op: &'static str, shape: &[usize], f: impl FnOnce(&mut [i32])) -> Result<Tensor> {
    let mut v = alloc_i32(op, numel(op, shape)?)?;
    f(&mut v);
    Ok(Tensor::from_i32(shape.to_vec(), v))
}
