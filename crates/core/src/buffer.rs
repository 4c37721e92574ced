//! Typed element buffers and the pool that recycles them.
//!
//! A training step allocates the same sizes every time. Dropped buffers go back to a
//! per-length free list so the next step reuses them instead of asking the allocator,
//! which keeps wasm memory flat and avoids zeroing fresh pages.

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I32,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I32 => "int32",
        }
    }
    pub fn code(self) -> u32 {
        match self {
            DType::F32 => 0,
            DType::I32 => 1,
        }
    }
    pub fn from_code(op: &'static str, code: u32) -> Result<DType> {
        match code {
            0 => Ok(DType::F32),
            1 => Ok(DType::I32),
            _ => Err(Error::dtype(op, format!("unknown dtype code {} (expected float32 or int32)", code))),
        }
    }
}

/// Free lists are capped so that a burst of odd sizes cannot pin memory forever.
const POOL_MAX_BYTES: usize = 256 << 20;
const POOL_MAX_PER_LEN: usize = 32;

#[derive(Default)]
struct Pool {
    f32s: BTreeMap<usize, Vec<Vec<f32>>>,
    i32s: BTreeMap<usize, Vec<Vec<i32>>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

fn take_vec<T: Copy + Default>(op: &'static str, len: usize, list: Option<Vec<T>>) -> Result<Vec<T>> {
    match list {
        Some(mut v) => {
            for x in v.iter_mut() {
                *x = T::default();
            }
            Ok(v)
        }
        None => {
            let mut v: Vec<T> = Vec::new();
            v.try_reserve_exact(len)
                .map_err(|_| Error::OutOfMemory { op, bytes: len.saturating_mul(std::mem::size_of::<T>()) })?;
            v.resize(len, T::default());
            Ok(v)
        }
    }
}

/// A zeroed `Vec<f32>` of `len` elements, from the pool when one is free.
pub fn alloc_f32(op: &'static str, len: usize) -> Result<Vec<f32>> {
    let hit = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let v = p.f32s.get_mut(&len).and_then(|l| l.pop());
        if v.is_some() {
            p.bytes -= len * 4;
        }
        v
    });
    take_vec(op, len, hit)
}

/// Scratch space of `len` floats for a kernel that overwrites every element it reads (im2col
/// matrices, gathered gradients): a pooled buffer as it was left, or a zeroed new one. Hand it
/// back with `recycle_f32` so the next call of the same shape reuses it.
pub fn scratch_f32(op: &'static str, len: usize) -> Result<Vec<f32>> {
    let hit = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let v = p.f32s.get_mut(&len).and_then(|l| l.pop());
        if v.is_some() {
            p.bytes -= len * 4;
        }
        v
    });
    match hit {
        Some(v) => Ok(v),
        None => take_vec(op, len, None),
    }
}

/// Parks a scratch vector in the pool (or frees it when the pool is full).
pub fn recycle_f32(v: Vec<f32>) {
    drop(Buffer::F32(v));
}

/// A zeroed `Vec<i32>` of `len` elements, from the pool when one is free.
pub fn alloc_i32(op: &'static str, len: usize) -> Result<Vec<i32>> {
    let hit = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let v = p.i32s.get_mut(&len).and_then(|l| l.pop());
        if v.is_some() {
            p.bytes -= len * 4;
        }
        v
    });
    take_vec(op, len, hit)
}

/// Bytes currently parked in the pool.
pub fn pooled_bytes() -> usize {
    POOL.with(|p| p.borrow().bytes)
}

/// Returns every pooled buffer to the allocator.
pub fn clear_pool() {
    POOL.with(|p| *p.borrow_mut() = Pool::default());
}

/// The elements of one tensor. Dropping it returns its storage to the pool.
#[derive(Debug)]
pub enum Buffer {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

impl Buffer {
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::I32(_) => DType::I32,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::I32(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn bytes(&self) -> usize {
        self.len() * 4
    }
    pub fn zeros(op: &'static str, dtype: DType, len: usize) -> Result<Buffer> {
        Ok(match dtype {
            DType::F32 => Buffer::F32(alloc_f32(op, len)?),
            DType::I32 => Buffer::I32(alloc_i32(op, len)?),
        })
    }
    /// A copy in fresh (pooled) storage.
    pub fn try_clone(&self, op: &'static str) -> Result<Buffer> {
        Ok(match self {
            Buffer::F32(v) => {
                let mut o = alloc_f32(op, v.len())?;
                o.copy_from_slice(v);
                Buffer::F32(o)
            }
            Buffer::I32(v) => {
                let mut o = alloc_i32(op, v.len())?;
                o.copy_from_slice(v);
                Buffer::I32(o)
            }
        })
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let bytes = self.bytes();
        if bytes == 0 {
            return;
        }
        // try_with: during thread teardown the pool may already be gone.
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.bytes + bytes > POOL_MAX_BYTES {
                return;
            }
            let parked = match self {
                Buffer::F32(v) => {
                    let l = p.f32s.entry(v.len()).or_insert_with(Vec::new);
                    l.len() < POOL_MAX_PER_LEN && {
                        l.push(std::mem::take(v));
                        true
                    }
                }
                Buffer::I32(v) => {
                    let l = p.i32s.entry(v.len()).or_insert_with(Vec::new);
                    l.len() < POOL_MAX_PER_LEN && {
                        l.push(std::mem::take(v));
                        true
                    }
                }
            };
            if parked {
                p.bytes += bytes;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_buffers_are_reused_zeroed() {
        clear_pool();
        let mut v = alloc_f32("t", 1000).unwrap();
        v[3] = 7.0;
        let ptr = v.as_ptr();
        drop(Buffer::F32(v));
        assert_eq!(pooled_bytes(), 4000);
        let w = alloc_f32("t", 1000).unwrap();
        assert_eq!(w.as_ptr(), ptr);
        assert!(w.iter().all(|&x| x == 0.0));
        assert_eq!(pooled_bytes(), 0);
    }

    #[test]
    fn scratch_is_recycled_without_zeroing() {
        clear_pool();
        let mut v = scratch_f32("t", 300).unwrap();
        assert!(v.iter().all(|&x| x == 0.0));
        v[0] = 2.0;
        let ptr = v.as_ptr();
        recycle_f32(v);
        assert_eq!(pooled_bytes(), 1200);
        let w = scratch_f32("t", 300).unwrap();
        assert_eq!((w.as_ptr(), w[0]), (ptr, 2.0));
        recycle_f32(w);
        clear_pool();
    }
}
