//! `Context`: the tensor handles a caller holds, grad mode, the random generator, and
//! the recording of ops into the autograd graph. The wasm crate owns one of these.

use crate::autograd::{run_backward, Edge, GradSlot, Node, Op};
use crate::buffer::DType;
use crate::error::{fmt_shape, Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

pub type Id = u32;

/// One live handle.
#[derive(Debug)]
pub struct Entry {
    pub value: Tensor,
    pub requires_grad: bool,
    /// The node that produced this tensor (non-leaf tensors only).
    pub grad_fn: Option<Rc<Node>>,
    /// Where backward accumulates this leaf's gradient.
    pub slot: Option<Rc<GradSlot>>,
    /// Set on a handle returned by `.grad`: in-place ops on it update the leaf's
    /// gradient, as `p.grad.mul_(c)` does in PyTorch.
    pub grad_of: Option<Rc<GradSlot>>,
}

pub struct Context {
    entries: BTreeMap<Id, Entry>,
    next_id: Id,
    next_seq: u64,
    pub grad_enabled: bool,
    pub rng: Rng,
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

impl Context {
    pub fn new() -> Context {
        Context { entries: BTreeMap::new(), next_id: 1, next_seq: 0, grad_enabled: true, rng: Rng::new(0) }
    }

    /// A fresh handle for a value with no history.
    pub fn insert(&mut self, value: Tensor) -> Id {
        let id = self.next_id;
        // Ids are never reused while a handle could still name them; wrapping after
        // 2^31 handles skips any id still alive.
        self.next_id = if self.next_id >= i32::MAX as u32 { 1 } else { self.next_id + 1 };
        while self.entries.contains_key(&self.next_id) {
            self.next_id += 1;
        }
        self.entries.insert(id, Entry { value, requires_grad: false, grad_fn: None, slot: None, grad_of: None });
        id
    }

    pub fn entry(&self, op: &'static str, id: Id) -> Result<&Entry> {
        self.entries.get(&id).ok_or(Error::Freed { op, id })
    }

    fn entry_mut(&mut self, op: &'static str, id: Id) -> Result<&mut Entry> {
        self.entries.get_mut(&id).ok_or(Error::Freed { op, id })
    }

    /// The value behind a handle (cheap: shares the buffer).
    pub fn get(&self, op: &'static str, id: Id) -> Result<Tensor> {
        Ok(self.entry(op, id)?.value.clone())
    }

    pub fn free(&mut self, id: Id) -> bool {
        self.entries.remove(&id).is_some()
    }

    pub fn is_live(&self, id: Id) -> bool {
        self.entries.contains_key(&id)
    }

    /// Live handles and the bytes of the distinct buffers they reference.
    pub fn live(&self) -> (usize, usize) {
        let mut seen = std::collections::BTreeSet::new();
        let mut bytes = 0;
        for e in self.entries.values() {
            if seen.insert(Rc::as_ptr(&e.value.buf) as usize) {
                bytes += e.value.buf.bytes();
            }
        }
        (self.entries.len(), bytes)
    }

    pub fn set_requires_grad(&mut self, id: Id, flag: bool) -> Result<()> {
        let e = self.entry_mut("requiresGrad_", id)?;
        if e.grad_fn.is_some() {
            if flag {
                return Ok(());
            }
            return Err(Error::autograd(
                "requiresGrad_",
                "you can only change requiresGrad of leaf tensors; use .detach() to get a tensor without history",
            ));
        }
        if flag && e.value.dtype() != DType::F32 {
            return Err(Error::autograd(
                "requiresGrad_",
                format!("only float32 tensors can require gradients, got {}; call .float() first", e.value.dtype().name()),
            ));
        }
        e.requires_grad = flag;
        if flag && e.slot.is_none() {
            e.slot = Some(Rc::new(GradSlot { shape: e.value.shape.clone(), grad: RefCell::new(None) }));
        }
        Ok(())
    }

    pub fn is_leaf(&self, id: Id) -> Result<bool> {
        Ok(self.entry("isLeaf", id)?.grad_fn.is_none())
    }

    /// PyTorch's grad_fn name (`MulBackward`), or "" for a leaf.
    pub fn grad_fn_name(&self, id: Id) -> Result<&'static str> {
        Ok(self.entry("gradFn", id)?.grad_fn.as_ref().map(|n| n.name).unwrap_or(""))
    }

    /// A new handle on the accumulated gradient of a leaf, or None.
    pub fn grad(&mut self, id: Id) -> Result<Option<Id>> {
        let slot = match &self.entry("grad", id)?.slot {
            Some(slot) => slot.clone(),
            None => return Ok(None),
        };
        let g = slot.grad.borrow().clone();
        Ok(g.map(|t| {
            let gid = self.insert(t);
            if let Some(e) = self.entries.get_mut(&gid) {
                e.grad_of = Some(slot);
            }
            gid
        }))
    }

    /// Replaces (or clears, with None) the gradient of a leaf.
    pub fn set_grad(&mut self, id: Id, grad: Option<Id>) -> Result<()> {
        let g = match grad {
            Some(g) => Some(self.get("setGrad", g)?),
            None => None,
        };
        let e = self.entry("setGrad", id)?;
        let slot = match &e.slot {
            Some(s) => s.clone(),
            None if g.is_none() => return Ok(()),
            None => return Err(Error::autograd("setGrad", "only leaf tensors with requiresGrad have a .grad to set")),
        };
        if let Some(t) = &g {
            if t.shape != slot.shape || t.dtype() != DType::F32 {
                return Err(Error::shape(
                    "setGrad",
                    format!("gradient must be float32 of shape {} but got {} of shape {}", fmt_shape(&slot.shape), t.dtype().name(), fmt_shape(&t.shape)),
                ));
            }
        }
        slot.grad.replace(g);
        Ok(())
    }

    /// A handle on the same value without history.
    pub fn detach(&mut self, id: Id) -> Result<Id> {
        let v = self.get("detach", id)?;
        Ok(self.insert(v))
    }

    fn edge(&self, op: &'static str, id: Id) -> Result<Edge> {
        let e = self.entry(op, id)?;
        Ok(match (&e.grad_fn, &e.slot) {
            (Some(n), _) => Edge::Node(n.clone()),
            (None, Some(s)) if e.requires_grad => Edge::Leaf(s.clone()),
            _ => Edge::None,
        })
    }

    /// Whether an op on these inputs should be recorded.
    pub fn needs_grad(&self, inputs: &[Id]) -> bool {
        self.grad_enabled && inputs.iter().any(|i| self.entries.get(i).map(|e| e.requires_grad).unwrap_or(false))
    }

    /// Stores the result of an op, recording `make_op()` in the graph when an input
    /// requires grad and grad mode is on.
    pub fn record(&mut self, name: &'static str, inputs: &[Id], value: Tensor, make_op: impl FnOnce() -> Op) -> Result<Id> {
        if !self.needs_grad(inputs) || value.dtype() != DType::F32 {
            return Ok(self.insert(value));
        }
        let next = inputs.iter().map(|&i| self.edge(name, i)).collect::<Result<Vec<_>>>()?;
        let node = Rc::new(Node { seq: self.next_seq, name, op: RefCell::new(Some(make_op())), next });
        self.next_seq += 1;
        let id = self.insert(value);
        if let Some(e) = self.entries.get_mut(&id) {
            e.requires_grad = true;
            e.grad_fn = Some(node);
        }
        Ok(id)
    }

    /// `tensor.backward(gradient, { retainGraph })`.
    pub fn backward(&mut self, id: Id, gradient: Option<Id>, retain_graph: bool) -> Result<()> {
        let e = self.entry("backward", id)?;
        if !e.requires_grad {
            return Err(Error::autograd(
                "backward",
                "the tensor does not require grad and has no grad_fn: no input of the computation had requiresGrad set (or it ran inside noGrad)",
            ));
        }
        let shape = e.value.shape.clone();
        let seed = match gradient {
            Some(g) => {
                let g = self.get("backward", g)?.to_f32("backward")?;
                if g.shape != shape {
                    return Err(Error::shape(
                        "backward",
                        format!("gradient has shape {} but the tensor has shape {}; they must match", fmt_shape(&g.shape), fmt_shape(&shape)),
                    ));
                }
                g
            }
            None => {
                if e.value.numel() != 1 {
                    return Err(Error::autograd(
                        "backward",
                        format!(
                            "grad can be implicitly created only for scalar outputs, but the tensor has shape {}; pass a gradient of that shape or reduce it first (e.g. .sum())",
                            fmt_shape(&shape)
                        ),
                    ));
                }
                Tensor::full("backward", &shape, 1.0)?
            }
        };
        let e = self.entry("backward", id)?;
        match (&e.grad_fn, &e.slot) {
            (Some(node), _) => {
                let node = node.clone();
                run_backward(&node, seed, retain_graph)
            }
            (None, Some(slot)) => {
                let mut cur = slot.grad.borrow_mut();
                let next = match cur.take() {
                    None => seed,
                    Some(prev) => crate::ops::binary::add_values(&prev, &seed)?,
                };
                *cur = Some(next);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Checks that `id` may be written in place: not a leaf that requires grad while
    /// grad mode is on, and not an output of a recorded op (its graph may need it).
    pub fn check_inplace(&self, op: &'static str, id: Id) -> Result<()> {
        let e = self.entry(op, id)?;
        if e.grad_fn.is_some() {
            return Err(Error::autograd(
                op,
                "in-place op on a tensor produced by a differentiable op would corrupt its graph; use the out-of-place op instead",
            ));
        }
        if e.requires_grad && self.grad_enabled {
            return Err(Error::autograd(
                op,
                "a leaf tensor that requires grad is used in an in-place op; run the update inside noGrad() (optimizers do)",
            ));
        }
        Ok(())
    }

    /// Runs `f` on the values of several handles with their storage unshared, so that
    /// in-place updates of a parameter and its optimizer state copy nothing.
    pub fn write_many(&mut self, op: &'static str, ids: &[Id], f: impl FnOnce(&mut [Tensor]) -> Result<()>) -> Result<()> {
        for (k, id) in ids.iter().enumerate() {
            self.check_inplace(op, *id)?;
            if ids[..k].contains(id) {
                return Err(Error::value(op, "the same tensor appears twice among the tensors to update"));
            }
        }
        let mut taken = Vec::with_capacity(ids.len());
        for id in ids {
            let e = self.entry_mut(op, *id)?;
            let empty = Tensor { buf: Rc::new(crate::buffer::Buffer::F32(Vec::new())), shape: vec![0] };
            taken.push(std::mem::replace(&mut e.value, empty));
        }
        let r = f(&mut taken);
        for (id, value) in ids.iter().zip(taken) {
            if let Some(e) = self.entries.get_mut(id) {
                e.value = value;
            }
        }
        r
    }

    /// Replaces the value of `id` in place (shape unchanged), after `check_inplace`.
    pub fn write(&mut self, op: &'static str, id: Id, f: impl FnOnce(&mut Tensor) -> Result<()>) -> Result<()> {
        self.check_inplace(op, id)?;
        let e = self.entry_mut(op, id)?;
        // Only a handle on the leaf's current gradient writes through; an older one
        // (from before another backward) is just a tensor.
        let current = e.grad_of.as_ref().filter(|slot| match &*slot.grad.borrow() {
            Some(g) => Rc::ptr_eq(&g.buf, &e.value.buf),
            None => false,
        });
        let slot = current.cloned();
        f(&mut e.value)?;
        if let Some(slot) = slot {
            slot.grad.replace(Some(e.value.clone()));
        }
        Ok(())
    }
}
