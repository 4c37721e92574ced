//! Shapes: element counts with overflow checks, NumPy broadcasting, strides, dims.

use crate::error::{fmt_shape, Error, Result};

/// The largest element count a tensor may have. Kept well under 2^31 so that byte
/// counts fit a 32-bit `usize` on wasm32.
pub const MAX_NUMEL: usize = 1 << 29;

/// The most dims a tensor may have: the wasm crate reports a shape in a fixed
/// 64-slot area (4 header values + the dims).
pub const MAX_NDIM: usize = 60;

/// A size that arrives as i64 (from JavaScript) as usize. A plain `as` would wrap
/// sizes of 2^32 and more on wasm32 (2^32 + 3 would become 3), so anything above
/// `MAX_NUMEL`, which no valid shape can hold, is refused here.
pub fn to_size(op: &'static str, d: i64) -> Result<usize> {
    if d < 0 || d > MAX_NUMEL as i64 {
        return Err(Error::value(op, format!("size {} is out of range (sizes must be in [0, {}])", d, MAX_NUMEL)));
    }
    Ok(d as usize)
}

/// Number of elements, or an error naming the op when the product is absurd.
pub fn numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    if shape.len() > MAX_NDIM {
        return Err(Error::value(op, format!("{} dims are too many (at most {} are supported)", shape.len(), MAX_NDIM)));
    }
    let mut n: usize = 1;
    for &d in shape {
        n = match n.checked_mul(d) {
            Some(v) if v <= MAX_NUMEL => v,
            _ => {
                return Err(Error::value(
                    op,
                    format!("shape {} has too many elements (at most {} are allowed)", fmt_shape(shape), MAX_NUMEL),
                ))
            }
        };
    }
    Ok(n)
}

/// Row-major strides in elements.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Resolves a possibly negative dim against `ndim`, as PyTorch does.
pub fn normalize_dim(op: &'static str, dim: i64, ndim: usize) -> Result<usize> {
    // A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        return Err(Error::Dim { op, dim, ndim });
    }
    Ok(if dim < 0 { (dim + n) as usize } else { dim as usize })
}

/// Resolves a list of dims, rejecting repeats.
pub fn normalize_dims(op: &'static str, dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = normalize_dim(op, d, ndim)?;
        if out.contains(&d) {
            return Err(Error::value(op, format!("dim {} appears more than once in the dim list", d)));
        }
        out.push(d);
    }
    Ok(out)
}

/// NumPy broadcasting of two shapes.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(
                op,
                format!(
                    "shapes {} and {} cannot be broadcast: dim {} is {} in one and {} in the other (each must match or be 1)",
                    fmt_shape(a),
                    fmt_shape(b),
                    i,
                    da,
                    db
                ),
            ));
        };
    }
    Ok(out)
}

/// Strides that read a tensor of `shape` as if it had the (broadcast) shape `out`:
/// broadcast dims get stride 0.
pub fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let s = strides(shape);
    let off = out.len() - shape.len();
    (0..out.len())
        .map(|i| if i < off || shape[i - off] == 1 { 0 } else { s[i - off] })
        .collect()
}

/// Calls `f(out_index, offset)` for every element of `out` in row-major order, where
/// `offset` walks a tensor with the given strides (0 for broadcast dims).
pub fn for_each_offset(out: &[usize], strd: &[usize], mut f: impl FnMut(usize, usize)) {
    for_each_run(out, strd, |o, s, len, step| {
        for j in 0..len {
            f(o + j, s + j * step);
        }
    });
}

/// The same walk as `for_each_offset` in runs: `f(out_start, offset, len, step)` covers
/// outputs `out_start..out_start + len`, whose offsets are `offset + j·step`. Size-1 dims are
/// dropped and neighbouring dims that walk memory as one are merged first, so a broadcast of a
/// scalar or a copy of a contiguous block is a single run.
pub fn for_each_run(out: &[usize], strd: &[usize], mut f: impl FnMut(usize, usize, usize, usize)) {
    let n: usize = out.iter().product();
    if n == 0 {
        return;
    }
    // Merged dims, outermost first: (size, stride).
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(out.len());
    for (&size, &st) in out.iter().zip(strd) {
        if size == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(last) if last.1 == st * size => *last = (last.0 * size, st),
            _ => dims.push((size, st)),
        }
    }
    let (len, step) = dims.pop().unwrap_or((1, 0));
    let mut idx = vec![0usize; dims.len()];
    let mut off = 0usize;
    for r in 0..n / len {
        f(r * len, off, len, step);
        let mut d = dims.len();
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            off += dims[d].1;
            if idx[d] < dims[d].0 {
                break;
            }
            off -= dims[d].1 * dims[d].0;
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
        let e = broadcast_shapes("add", &[2, 3], &[4, 3]).unwrap_err();
        assert!(e.to_string().starts_with("add: shapes [2, 3] and [4, 3] cannot be broadcast"));
    }

    #[test]
    fn offsets_walk_broadcast_strides() {
        let out = [2, 3];
        let st = broadcast_strides(&[3], &out);
        let mut seen = vec![];
        for_each_offset(&out, &st, |_, o| seen.push(o));
        assert_eq!(seen, vec![0, 1, 2, 0, 1, 2]);
    }

    /// Offsets by the definition: the dot product of each multi-index with the strides.
    fn offsets_by_definition(out: &[usize], st: &[usize]) -> Vec<usize> {
        let n: usize = out.iter().product();
        (0..n)
            .map(|mut i| {
                let mut off = 0;
                for d in (0..out.len()).rev() {
                    off += (i % out[d]) * st[d];
                    i /= out[d];
                }
                off
            })
            .collect()
    }

    #[test]
    fn runs_merge_dims_and_match_the_definition() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[64, 10, 24, 24], &[0, 0, 0, 0]),
            (&[2, 3, 4], &[12, 4, 1]),
            (&[2, 3, 4], &[1, 2, 6]),
            (&[2, 1, 3, 1, 4], &[0, 7, 4, 9, 1]),
            (&[3, 4, 5], &[0, 5, 1]),
            (&[5, 4, 3], &[1, 0, 20]),
            (&[1, 1], &[3, 3]),
            (&[], &[]),
            (&[4, 0, 2], &[2, 2, 1]),
        ];
        for &(out, st) in cases {
            let mut got = vec![];
            let mut next = 0;
            for_each_run(out, st, |start, off, len, step| {
                assert_eq!(start, next, "runs cover {:?} in order", out);
                next += len;
                got.extend((0..len).map(|j| off + j * step));
            });
            assert_eq!(got, offsets_by_definition(out, st), "shape {:?} strides {:?}", out, st);
        }
        let mut runs = 0;
        for_each_run(&[64, 10, 24, 24], &[0, 0, 0, 0], |_, _, len, step| {
            runs += 1;
            assert_eq!((len, step), (64 * 10 * 24 * 24, 0));
        });
        assert_eq!(runs, 1);
    }

    #[test]
    fn dims_and_overflow() {
        assert_eq!(normalize_dim("t", -1, 3).unwrap(), 2);
        assert!(normalize_dim("t", 3, 3).is_err());
        assert_eq!(normalize_dim("t", -1, 0).unwrap(), 0);
        assert!(numel("t", &[1 << 20, 1 << 20]).is_err());
        assert!(normalize_dims("t", &[0, -2], 2).is_err());
    }
}
