//! Reverse-mode autograd: the graph nodes, the `Op` enum of everything differentiable,
//! and the backward pass.
//!
//! Like PyTorch, each non-leaf tensor points at the `Node` that made it; a node owns
//! what its op saved and edges to its inputs' nodes, or to the gradient slot of a leaf.
//! The graph therefore lives exactly as long as some tensor (or the tape walk) needs it,
//! independent of which handles the caller frees.

use crate::error::{fmt_shape, Error, Result};
use crate::ops;
use crate::ops::unary::Unary;
use crate::tensor::Tensor;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Where a leaf's gradient accumulates; shared by the leaf's handle and the edges to it.
#[derive(Debug)]
pub struct GradSlot {
    pub shape: Vec<usize>,
    pub grad: RefCell<Option<Tensor>>,
}

#[derive(Debug, Clone)]
pub enum Edge {
    /// The input needs no gradient.
    None,
    Leaf(Rc<GradSlot>),
    Node(Rc<Node>),
}

#[derive(Debug)]
pub struct Node {
    /// Creation order: every input node has a smaller `seq`, which gives the
    /// topological order for free.
    pub seq: u64,
    pub name: &'static str,
    /// `None` once backward has run without `retain_graph` (the saved tensors are freed).
    pub op: RefCell<Option<Op>>,
    pub next: Vec<Edge>,
}

/// Every differentiable op with what its backward needs. `backward` matches this
/// exhaustively, so an op cannot be added without its gradient.
#[derive(Debug)]
pub enum Op {
    Add { a: Vec<usize>, b: Vec<usize> },
    Sub { a: Vec<usize>, b: Vec<usize> },
    Mul { a: Tensor, b: Tensor },
    Div { a: Tensor, b: Tensor },
    Pow { a: Tensor, b: Tensor, out: Tensor },
    Unary { f: Unary, x: Tensor, out: Tensor },
    Matmul { a: Tensor, b: Tensor, need: [bool; 2] },
    Sum { shape: Vec<usize>, dims: Vec<usize>, keepdim: bool, scale: f32 },
    ExtremumDim { shape: Vec<usize>, dim: usize, keepdim: bool, index: Tensor },
    ExtremumAll { x: Tensor, out: Tensor },
    Var { x: Tensor, dims: Vec<usize>, correction: f32, keepdim: bool },
    Softmax { out: Tensor, dim: usize },
    LogSoftmax { out: Tensor, dim: usize },
    Reshape { shape: Vec<usize> },
    Permute { perm: Vec<usize> },
    Expand { shape: Vec<usize> },
    Cat { dim: usize, sizes: Vec<usize> },
    Narrow { shape: Vec<usize>, dim: usize, start: usize },
    IndexSelect { shape: Vec<usize>, dim: usize, index: Tensor },
    Gather { shape: Vec<usize>, dim: usize, index: Tensor },
    Where { cond: Tensor, a: Vec<usize>, b: Vec<usize> },
    MaskedFill { mask: Tensor },
    CrossEntropy { logp: Tensor, q: Tensor },
    Linear { x: Tensor, w: Tensor, has_bias: bool, need: [bool; 2] },
    BceWithLogits { x: Tensor, y: Tensor, pos_weight: Option<Tensor> },
    /// `need`: whether the input and the weight want gradients (checked when recorded).
    Conv2d { x: Tensor, w: Tensor, has_bias: bool, p: ops::conv::Conv2dParams, need: [bool; 2] },
    MaxPool2d { shape: Vec<usize>, index: Tensor },
    AvgPool2d { shape: Vec<usize>, p: ops::pool::Pool2dParams },
    AdaptiveAvgPool2d { shape: Vec<usize> },
    /// One layer-direction of RNN/LSTM/GRU over a whole sequence (boxed: it saves a lot).
    Rnn(Box<ops::rnn::RnnSaved>),
}

/// Gradients of an op's inputs, in input order, given the gradient of its output.
fn backward_op(op: &Op, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
    use ops::*;
    match op {
        Op::Add { a, b } => binary::add_backward(g, a, b),
        Op::Sub { a, b } => binary::sub_backward(g, a, b),
        Op::Mul { a, b } => binary::mul_backward(g, a, b),
        Op::Div { a, b } => binary::div_backward(g, a, b),
        Op::Pow { a, b, out } => binary::pow_backward(g, a, b, out),
        Op::Unary { f, x, out } => unary::unary_backward(*f, g, x, out).map(|t| vec![Some(t)]),
        Op::Matmul { a, b, need } => matmul::matmul_backward(g, a, b, *need),
        Op::Sum { shape, dims, keepdim, scale } => reduce::sum_backward(g, shape, dims, *keepdim, *scale).map(|t| vec![Some(t)]),
        Op::ExtremumDim { shape, dim, keepdim, index } => {
            reduce::extremum_dim_backward(g, shape, *dim, *keepdim, index).map(|t| vec![Some(t)])
        }
        Op::ExtremumAll { x, out } => reduce::extremum_all_backward(g, x, out).map(|t| vec![Some(t)]),
        Op::Var { x, dims, correction, keepdim } => {
            reduce::var_backward(g, x, dims, *correction, *keepdim).map(|t| vec![Some(t)])
        }
        Op::Softmax { out, dim } => softmax::softmax_backward(g, out, *dim).map(|t| vec![Some(t)]),
        Op::LogSoftmax { out, dim } => softmax::log_softmax_backward(g, out, *dim).map(|t| vec![Some(t)]),
        Op::Reshape { shape } => Ok(vec![Some(g.with_shape(shape.clone()))]),
        Op::Permute { perm } => layout::permute_backward(g, perm).map(|t| vec![Some(t)]),
        Op::Expand { shape } => reduce::sum_to_shape(g, shape).map(|t| vec![Some(t)]),
        Op::Cat { dim, sizes } => join::cat_backward(g, *dim, sizes),
        Op::Narrow { shape, dim, start } => join::narrow_backward(g, shape, *dim, *start).map(|t| vec![Some(t)]),
        Op::IndexSelect { shape, dim, index } => {
            index::index_select_backward(g, shape, *dim, index).map(|t| vec![Some(t)])
        }
        Op::Gather { shape, dim, index } => index::gather_backward(g, shape, *dim, index).map(|t| vec![Some(t)]),
        Op::Where { cond, a, b } => index::where_backward(g, cond, a, b),
        Op::MaskedFill { mask } => index::masked_fill_backward(g, mask).map(|t| vec![Some(t)]),
        Op::CrossEntropy { logp, q } => loss::cross_entropy_backward(g, logp, q),
        Op::Linear { x, w, has_bias, need } => linear::linear_backward(g, x, w, *has_bias, *need),
        Op::BceWithLogits { x, y, pos_weight } => loss::bce_with_logits_backward(g, x, y, pos_weight),
        Op::Conv2d { x, w, has_bias, p, need } => conv::conv2d_backward(g, x, w, *has_bias, p, *need),
        Op::MaxPool2d { shape, index } => pool::max_pool2d_backward(g, shape, index).map(|t| vec![Some(t)]),
        Op::AvgPool2d { shape, p } => pool::avg_pool2d_backward(g, shape, p).map(|t| vec![Some(t)]),
        Op::AdaptiveAvgPool2d { shape } => pool::adaptive_avg_pool2d_backward(g, shape).map(|t| vec![Some(t)]),
        Op::Rnn(saved) => rnn::rnn_backward(g, saved),
    }
}

fn accumulate(slot: &GradSlot, g: Tensor) -> Result<()> {
    if g.shape != slot.shape {
        return Err(Error::autograd(
            "backward",
            format!("gradient of shape {} does not match its leaf of shape {}", fmt_shape(&g.shape), fmt_shape(&slot.shape)),
        ));
    }
    let mut cur = slot.grad.borrow_mut();
    let next = match cur.take() {
        None => g,
        Some(prev) => ops::binary::add_values(&prev, &g)?,
    };
    *cur = Some(next);
    Ok(())
}

/// Runs the backward pass from `root` (a node) seeded with `seed`.
pub fn run_backward(root: &Rc<Node>, seed: Tensor, retain_graph: bool) -> Result<()> {
    // Collect the reachable graph, keyed by seq so that iteration runs outputs first.
    let mut nodes: BTreeMap<u64, Rc<Node>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(n) = stack.pop() {
        if nodes.contains_key(&n.seq) {
            continue;
        }
        if n.op.borrow().is_none() {
            return Err(Error::autograd(
                "backward",
                format!(
                    "trying to backward through the graph a second time (through {}): its saved tensors were freed; \
                     pass {{ retainGraph: true }} to the first backward() call if you need to run it twice",
                    n.name
                ),
            ));
        }
        for e in &n.next {
            if let Edge::Node(m) = e {
                stack.push(m.clone());
            }
        }
        nodes.insert(n.seq, n);
    }

    let mut pending: BTreeMap<u64, Tensor> = BTreeMap::new();
    pending.insert(root.seq, seed);
    for (seq, node) in nodes.iter().rev() {
        let g = match pending.remove(seq) {
            Some(g) => g,
            None => continue,
        };
        let grads = {
            let op = node.op.borrow();
            // Checked present above; a node is visited once.
            match op.as_ref() {
                Some(op) => backward_op(op, &g)?,
                None => continue,
            }
        };
        if !retain_graph {
            node.op.replace(None);
        }
        for (edge, grad) in node.next.iter().zip(grads.into_iter()) {
            let grad = match grad {
                Some(t) => t,
                None => continue,
            };
            match edge {
                Edge::None => {}
                Edge::Leaf(slot) => accumulate(slot, grad)?,
                Edge::Node(m) => {
                    let sum = match pending.remove(&m.seq) {
                        None => grad,
                        Some(prev) => ops::binary::add_values(&prev, &grad)?,
                    };
                    pending.insert(m.seq, sum);
                }
            }
        }
    }
    Ok(())
}
