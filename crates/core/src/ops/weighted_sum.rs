//! `Σ_k w_k · x_k` over flat float32 data, into a new tensor: how data-parallel training
//! averages its replicas' gradients straight from the data they hand over, in one pass
//! per term instead of a tensor, a scale and an add for each.

use crate::error::{fmt_shape, Error, Result};
use crate::shape::numel;
use crate::tensor::{new_f32_overwritten, Tensor};

/// `w_0·x_0 + w_1·x_1 + …` of shape `shape`, summed left to right in float32: every
/// caller that passes the same terms in the same order gets the same bits. A weight of 1
/// takes its term as it is; with no terms the result is zeros. Each term must hold at
/// least `numel(shape)` values (the first ones are used).
pub fn weighted_sum(op: &'static str, shape: &[usize], terms: &[&[f32]], weights: &[f32]) -> Result<Tensor> {
    let n = numel(op, shape)?;
    if terms.len() != weights.len() {
        return Err(Error::value(op, format!("{} terms but {} weights; give one weight per term", terms.len(), weights.len())));
    }
    if let Some((k, t)) = terms.iter().enumerate().find(|(_, t)| t.len() < n) {
        return Err(Error::shape(op, format!("term {} holds {} values, fewer than the {} of shape {}", k, t.len(), n, fmt_shape(shape))));
    }
    new_f32_overwritten(op, shape, |out| match terms.split_first() {
        None => out.iter_mut().for_each(|o| *o = 0.0),
        Some((first, rest)) => {
            let w = weights[0];
            if w == 1.0 {
                out.copy_from_slice(&first[..n]);
            } else {
                out.iter_mut().zip(first.iter()).for_each(|(o, &x)| *o = x * w);
            }
            for (x, &w) in rest.iter().zip(&weights[1..]) {
                out.iter_mut().zip(x.iter()).for_each(|(o, &x)| *o += w * x);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        t.f32s("test").unwrap().to_vec()
    }

    #[test]
    fn sums_in_order_as_separate_scale_and_adds_would() {
        let a = [1.0f32, 0.1, -3.0, 1e-8];
        let b = [0.3f32, 0.7, 2.5, 1e8];
        let c = [7.0f32, -0.2, 0.0, 3.0];
        let (wa, wb, wc) = (0.25f32, 0.5f32, 0.25f32);
        let t = weighted_sum("t", &[2, 2], &[&a, &b, &c], &[wa, wb, wc]).unwrap();
        let expected: Vec<f32> = (0..4)
            .map(|i| {
                let mut s = a[i] * wa;
                s += wb * b[i];
                s += wc * c[i];
                s
            })
            .collect();
        assert_eq!(t.shape, vec![2, 2]);
        assert_eq!(values(&t).iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn weight_one_keeps_the_term_and_no_terms_give_zeros() {
        let a = [f32::MIN_POSITIVE, -0.0, 3.5];
        assert_eq!(values(&weighted_sum("t", &[3], &[&a], &[1.0]).unwrap()), a.to_vec());
        assert_eq!(values(&weighted_sum("t", &[2], &[], &[]).unwrap()), vec![0.0, 0.0]);
    }

    #[test]
    fn longer_terms_use_their_start() {
        let a = [1.0f32, 2.0, 3.0];
        assert_eq!(values(&weighted_sum("t", &[2], &[&a], &[2.0]).unwrap()), vec![2.0, 4.0]);
    }

    #[test]
    fn errors_name_the_op_and_the_sizes() {
        let a = [1.0f32];
        let e = weighted_sum("gradientMean", &[2], &[&a], &[1.0]).unwrap_err().to_string();
        assert!(e.contains("gradientMean") && e.contains("holds 1 values") && e.contains("[2]"), "{}", e);
        let e = weighted_sum("gradientMean", &[1], &[&a], &[]).unwrap_err().to_string();
        assert!(e.contains("1 terms but 0 weights"), "{}", e);
    }
}
