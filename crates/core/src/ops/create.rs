//! Creation ops: from data, filled, ranges, identity, and the random ones that draw
//! from the context's one generator.

use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::rng::Rng;
use crate::shape::numel;
use crate::tensor::{new_f32, new_i32, Tensor};

/// Shapes arrive from JavaScript as i64; negative sizes are a user error.
pub fn to_shape(op: &'static str, dims: &[i64]) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        if d < 0 {
            return Err(Error::value(op, format!("negative dimension {} in size {:?}; sizes must be ≥ 0", d, dims)));
        }
        out.push(crate::shape::to_size(op, d)?);
    }
    numel(op, &out)?;
    Ok(out)
}

impl Context {
    pub fn full(&mut self, dims: &[i64], value: f64, dtype: DType) -> Result<Id> {
        let shape = to_shape("full", dims)?;
        let t = match dtype {
            DType::F32 => new_f32("full", &shape, |o| o.iter_mut().for_each(|x| *x = value as f32))?,
            DType::I32 => new_i32("full", &shape, |o| o.iter_mut().for_each(|x| *x = value as i32))?,
        };
        Ok(self.insert(t))
    }

    /// `arange(start, end, step)`; the count is ceil((end - start) / step), as PyTorch.
    pub fn arange(&mut self, start: f64, end: f64, step: f64, dtype: DType) -> Result<Id> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::value("arange", format!("step must be finite and non-zero, got start {} end {} step {}", start, end, step)));
        }
        if (end - start) * step < 0.0 {
            return Err(Error::value("arange", format!("upper bound {} and lower bound {} are inconsistent with step sign {}", end, start, step)));
        }
        let n = ((end - start) / step).ceil().max(0.0);
        if n > crate::shape::MAX_NUMEL as f64 {
            return Err(Error::value("arange", format!("{} elements is too many", n)));
        }
        let n = n as usize;
        let t = match dtype {
            DType::F32 => new_f32("arange", &[n], |o| o.iter_mut().enumerate().for_each(|(i, x)| *x = (start + i as f64 * step) as f32))?,
            DType::I32 => new_i32("arange", &[n], |o| o.iter_mut().enumerate().for_each(|(i, x)| *x = (start + i as f64 * step) as i32))?,
        };
        Ok(self.insert(t))
    }

    /// `linspace(start, end, steps)`, computed from both ends like PyTorch so that the
    /// last element is exactly `end`.
    pub fn linspace(&mut self, start: f64, end: f64, steps: i64) -> Result<Id> {
        if steps < 0 {
            return Err(Error::value("linspace", format!("number of steps must be non-negative, got {}", steps)));
        }
        let shape = to_shape("linspace", &[steps])?;
        let n = steps as usize;
        let step = if n > 1 { (end - start) / (n - 1) as f64 } else { 0.0 };
        // One step is just `start` in PyTorch; the from-the-end half would give `end`.
        let half = if n == 1 { 1 } else { n / 2 };
        let t = new_f32("linspace", &shape, |o| {
            for (i, x) in o.iter_mut().enumerate() {
                *x = if i < half { start + step * i as f64 } else { end - step * (n - 1 - i) as f64 } as f32;
            }
        })?;
        Ok(self.insert(t))
    }

    pub fn eye(&mut self, n: i64, m: i64, dtype: DType) -> Result<Id> {
        let shape = to_shape("eye", &[n, m])?;
        let id = self.full(&[n, m], 0.0, dtype)?;
        let cols = shape[1];
        let mut t: Tensor = self.get("eye", id)?;
        self.free(id);
        for i in 0..shape[0].min(cols) {
            match dtype {
                DType::F32 => t.f32s_mut("eye")?[i * cols + i] = 1.0,
                DType::I32 => t.i32s_mut("eye")?[i * cols + i] = 1,
            }
        }
        Ok(self.insert(t))
    }

    pub fn manual_seed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// Uniform on [low, high).
    pub fn rand(&mut self, dims: &[i64], low: f32, high: f32) -> Result<Id> {
        let shape = to_shape("rand", dims)?;
        if !(low <= high) {
            return Err(Error::value("rand", format!("low {} must be ≤ high {}", low, high)));
        }
        let rng = &mut self.rng;
        let t = new_f32("rand", &shape, |o| o.iter_mut().for_each(|x| *x = low + (high - low) * rng.uniform()))?;
        Ok(self.insert(t))
    }

    /// Normal with the given mean and std.
    pub fn randn(&mut self, dims: &[i64], mean: f32, std: f32) -> Result<Id> {
        let shape = to_shape("randn", dims)?;
        if !(std >= 0.0) {
            return Err(Error::value("randn", format!("std must be ≥ 0, got {}", std)));
        }
        let rng = &mut self.rng;
        let t = new_f32("randn", &shape, |o| o.iter_mut().for_each(|x| *x = mean + std * rng.normal()))?;
        Ok(self.insert(t))
    }

    /// Integers uniform on [low, high).
    pub fn randint(&mut self, low: i64, high: i64, dims: &[i64]) -> Result<Id> {
        let shape = to_shape("randint", dims)?;
        if low >= high || high - low > u32::MAX as i64 || low < i32::MIN as i64 || high > i32::MAX as i64 + 1 {
            return Err(Error::value("randint", format!("expected low < high within int32, got low {} high {}", low, high)));
        }
        let span = (high - low) as u32;
        let rng = &mut self.rng;
        let t = new_i32("randint", &shape, |o| o.iter_mut().for_each(|x| *x = (low + rng.below(span) as i64) as i32))?;
        Ok(self.insert(t))
    }

    /// A random permutation of 0..n.
    pub fn randperm(&mut self, n: i64) -> Result<Id> {
        let shape = to_shape("randperm", &[n])?;
        let rng = &mut self.rng;
        let t = new_i32("randperm", &shape, |o| {
            o.iter_mut().enumerate().for_each(|(i, x)| *x = i as i32);
            rng.shuffle(o);
        })?;
        Ok(self.insert(t))
    }

    /// Elementwise cast to `dtype` (a new handle; no gradient flows through int).
    pub fn cast(&mut self, a: Id, dtype: DType) -> Result<Id> {
        let x = self.get("cast", a)?;
        if x.dtype() == dtype {
            return self.reshape(a, &x.shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
        }
        let t = match dtype {
            DType::F32 => x.to_f32("float")?,
            DType::I32 => x.to_i32("int")?,
        };
        Ok(self.insert(t))
    }

    /// Checks a data length against a shape before a tensor is built from caller data.
    pub fn check_data_len(op: &'static str, shape: &[usize], len: usize) -> Result<()> {
        let n = numel(op, shape)?;
        if n != len {
            return Err(Error::shape(op, format!("{} values cannot fill shape {} ({} elements)", len, fmt_shape(shape), n)));
        }
        Ok(())
    }
}
