//! Shape ops: reshape/view/flatten/squeeze/unsqueeze (shared storage), and
//! permute/transpose/expand (copies into a new contiguous layout).

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::shape::{broadcast_strides, for_each_run, normalize_dim, numel, strides};
use crate::tensor::{new_f32_overwritten, new_i32, Tensor};
use crate::buffer::Buffer;
use crate::kernels::im2col::transpose4_runs;

/// Resolves a requested shape with at most one -1 against `n` elements.
pub fn infer_shape(op: &'static str, from: &[usize], requested: &[i64]) -> Result<Vec<usize>> {
    let n: usize = from.iter().product();
    let mut infer = None;
    let mut known: usize = 1;
    for (i, &d) in requested.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                return Err(Error::value(op, "only one dimension can be inferred (-1)"));
            }
            infer = Some(i);
        } else if d < 0 {
            return Err(Error::value(op, format!("invalid shape dimension {}; sizes must be ≥ 0 or -1 to infer", d)));
        } else {
            known = known.checked_mul(crate::shape::to_size(op, d)?).unwrap_or(usize::MAX);
        }
    }
    // Every entry is -1 or was checked by to_size above, so the casts cannot wrap.
    let mut shape: Vec<usize> = requested.iter().map(|&d| d.max(0) as usize).collect();
    let req: Vec<String> = requested.iter().map(|d| d.to_string()).collect();
    let bad = || Error::shape(op, format!("shape [{}] is invalid for input of size {} (shape {})", req.join(", "), n, fmt_shape(from)));
    match infer {
        Some(i) => {
            if known == 0 || n % known != 0 {
                return Err(bad());
            }
            shape[i] = n / known;
        }
        None => {
            if known != n {
                return Err(bad());
            }
        }
    }
    numel(op, &shape)?;
    Ok(shape)
}

/// Copies `x` into the layout of its dims reordered by `perm`.
pub fn permute_values(op: &'static str, x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let out_shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let n = perm.len();
    let swaps_last_two = n >= 2 && perm[n - 2] == n - 1 && perm[n - 1] == n - 2 && perm[..n - 2].iter().enumerate().all(|(i, &p)| i == p);
    if let (true, Buffer::F32(xs)) = (swaps_last_two, &*x.buf) {
        let (r, c) = (x.shape[n - 2], x.shape[n - 1]);
        return new_f32_overwritten(op, &out_shape, |o| {
            if r * c > 0 {
                for (src, dst) in xs.chunks_exact(r * c).zip(o.chunks_exact_mut(r * c)) {
                    transpose_matrix(src, dst, r, c);
                }
            }
        });
    }
    let st = strides(&x.shape);
    let src_strides: Vec<usize> = perm.iter().map(|&p| st[p]).collect();
    gather_layout(op, x, &out_shape, &src_strides)
}

/// A new contiguous tensor of `out_shape` whose element i reads `x` at the offset that
/// `strides` gives (the common kernel of permute and expand).
fn gather_layout(op: &'static str, x: &Tensor, out_shape: &[usize], src_strides: &[usize]) -> Result<Tensor> {
    numel(op, out_shape)?;
    match &*x.buf {
        Buffer::F32(xs) => new_f32_overwritten(op, out_shape, |o| gather_runs(xs, o, out_shape, src_strides)),
        Buffer::I32(xs) => new_i32(op, out_shape, |o| gather_runs(xs, o, out_shape, src_strides)),
    }
}

/// `o[i] = xs[offset(i)]`, a run at a time: a fill for broadcast runs, a block copy for
/// contiguous ones.
fn gather_runs<T: Copy>(xs: &[T], o: &mut [T], out_shape: &[usize], src_strides: &[usize]) {
    for_each_run(out_shape, src_strides, |start, off, len, step| {
        let dst = &mut o[start..start + len];
        match step {
            0 => dst.fill(xs[off]),
            1 => dst.copy_from_slice(&xs[off..off + len]),
            _ => {
                for (j, d) in dst.iter_mut().enumerate() {
                    *d = xs[off + j * step];
                }
            }
        }
    });
}

/// `dst` (c×r) = `src` (r×c)ᵀ: four rows at a time become four columns through 4×4 register
/// transposes. The element-wise strided gather that a general permute does took 2.4 ns per
/// float for a 250×512 matrix.
fn transpose_matrix(src: &[f32], dst: &mut [f32], r: usize, c: usize) {
    let whole = r / 4 * 4;
    for i in (0..whole).step_by(4) {
        transpose4_runs(&mut dst[i..], r, src, [i * c, (i + 1) * c, (i + 2) * c, (i + 3) * c], c);
    }
    for i in whole..r {
        for j in 0..c {
            dst[j * r + i] = src[i * c + j];
        }
    }
}

/// Broadcasts `x` to `shape` (a copy; `x.shape` must broadcast to it).
pub fn expand_values(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape == shape {
        return Ok(x.clone());
    }
    gather_layout("expand", x, shape, &broadcast_strides(&x.shape, shape))
}

// d permute = permute by the inverse permutation
pub fn permute_backward(g: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    permute_values("permute_backward", g, &inv)
}

impl Context {
    /// reshape / view / flatten / squeeze / unsqueeze all land here with a target shape.
    pub fn reshape(&mut self, a: Id, shape: &[i64]) -> Result<Id> {
        let x = self.get("reshape", a)?;
        let shape = infer_shape("reshape", &x.shape, shape)?;
        let from = x.shape.clone();
        let out = x.with_shape(shape);
        self.record("ViewBackward", &[a], out, move || Op::Reshape { shape: from })
    }

    pub fn permute(&mut self, a: Id, dims: &[i64]) -> Result<Id> {
        let x = self.get("permute", a)?;
        if dims.len() != x.ndim() {
            return Err(Error::shape(
                "permute",
                format!("got {} dims for a tensor of shape {}; give a permutation of all {} dims", dims.len(), fmt_shape(&x.shape), x.ndim()),
            ));
        }
        let perm = crate::shape::normalize_dims("permute", dims, x.ndim())?;
        let out = permute_values("permute", &x, &perm)?;
        self.record("PermuteBackward", &[a], out, move || Op::Permute { perm })
    }

    pub fn transpose(&mut self, a: Id, d0: i64, d1: i64) -> Result<Id> {
        let nd = self.get("transpose", a)?.ndim();
        let (d0, d1) = (normalize_dim("transpose", d0, nd)?, normalize_dim("transpose", d1, nd)?);
        if nd < 2 {
            return self.reshape(a, &self.get("transpose", a)?.shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
        }
        let mut perm: Vec<i64> = (0..nd as i64).collect();
        perm.swap(d0, d1);
        self.permute(a, &perm)
    }

    /// `expand(shape)`: -1 keeps a dim; new leading dims may be added.
    pub fn expand(&mut self, a: Id, shape: &[i64]) -> Result<Id> {
        let x = self.get("expand", a)?;
        if shape.len() < x.ndim() {
            return Err(Error::shape(
                "expand",
                format!("the target has {} dims but the tensor of shape {} has {}; give at least as many", shape.len(), fmt_shape(&x.shape), x.ndim()),
            ));
        }
        let lead = shape.len() - x.ndim();
        let mut target = Vec::with_capacity(shape.len());
        for (i, &s) in shape.iter().enumerate() {
            let cur = if i >= lead { Some(x.shape[i - lead]) } else { None };
            let t = match (s, cur) {
                (-1, Some(c)) => c,
                (s, _) if s < 0 => {
                    return Err(Error::value("expand", format!("size {} at dim {} is invalid; use -1 only to keep an existing dim", s, i)))
                }
                // Checked before the comparison below, where `s as usize` could wrap.
                (s, _) if s > crate::shape::MAX_NUMEL as i64 => {
                    return Err(Error::value("expand", format!("size {} at dim {} is too large (at most {})", s, i, crate::shape::MAX_NUMEL)))
                }
                (s, Some(c)) if c != 1 && c != s as usize => {
                    return Err(Error::shape(
                        "expand",
                        format!("cannot expand shape {} to {:?}: dim {} has size {} (only size-1 dims can be expanded)", fmt_shape(&x.shape), shape, i, c),
                    ))
                }
                (s, _) => s as usize,
            };
            target.push(t);
        }
        let from = x.shape.clone();
        let out = expand_values(&x, &target)?;
        self.record("ExpandBackward", &[a], out, move || Op::Expand { shape: from })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_and_expand_copy_correctly() {
        let x = Tensor::from_f32(vec![2, 3], vec![0., 1., 2., 3., 4., 5.]);
        let t = permute_values("t", &x, &[1, 0]).unwrap();
        assert_eq!(t.shape, vec![3, 2]);
        assert_eq!(t.f32s("t").unwrap(), &[0., 3., 1., 4., 2., 5.]);
        let b = permute_backward(&t, &[1, 0]).unwrap();
        assert_eq!(b.f32s("t").unwrap(), x.f32s("t").unwrap());
        let e = expand_values(&Tensor::from_f32(vec![2, 1], vec![7., 8.]), &[3, 2, 2]).unwrap();
        assert_eq!(e.f32s("t").unwrap(), &[7., 7., 8., 8., 7., 7., 8., 8., 7., 7., 8., 8.]);
        assert_eq!(infer_shape("t", &[2, 3], &[-1]).unwrap(), vec![6]);
        assert!(infer_shape("t", &[2, 3], &[4, -1]).is_err());
        // 2^32 + 6 must not wrap to 6 on wasm32.
        assert!(infer_shape("t", &[6], &[(1i64 << 32) + 6]).is_err());
        assert!(infer_shape("t", &[1], &[1; 61]).is_err());
    }

    #[test]
    fn swapping_the_last_two_dims_matches_the_general_gather() {
        // Row counts around the 4-row blocks, with a batch dim and an empty matrix.
        for shape in [vec![5, 7], vec![8, 3], vec![3, 4, 9], vec![2, 13, 1], vec![1, 6], vec![2, 0, 3]] {
            let n: usize = shape.iter().product();
            let x = Tensor::from_f32(shape.clone(), (0..n).map(|i| i as f32 * 0.5 - 3.0).collect());
            let k = shape.len();
            let mut perm: Vec<usize> = (0..k).collect();
            perm.swap(k - 2, k - 1);
            let got = permute_values("t", &x, &perm).unwrap();
            let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
            let st = strides(&shape);
            let src_strides: Vec<usize> = perm.iter().map(|&p| st[p]).collect();
            let want = gather_layout("t", &x, &out_shape, &src_strides).unwrap();
            assert_eq!(got.shape, want.shape);
            assert_eq!(got.f32s("t").unwrap(), want.f32s("t").unwrap(), "{:?}", shape);
        }
    }
}
