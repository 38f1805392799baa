//! The parameter store: params and state tensors by name, outliving runs.
//!
//! Each tensor lives in its own 64-byte aligned buffer, allocated once when
//! the tensor is added and never moved, resized or freed while the store
//! lives: writing a new value copies into the same buffer. So the addresses
//! a run uses stay valid, update steps can write parameters in place, and a
//! caller may rely on a parameter's address not changing across steps.
//! Entries are only ever added, never removed, so the position an
//! executable binds a name to stays valid too.
//!
//! Several executables (a training step and an evaluation pass) can run on
//! one store: they share tensors by name.

use crate::arena::AlignedBuf;
use crate::error::RuntimeError;
use crate::tensor::{TensorData, TensorRef};
use kiln_ir::eval::{Env, Value};
use kiln_ir::init::initial_value;
use kiln_ir::plan::Plan;
use kiln_ir::{DType, Init, TensorType};
use std::sync::atomic::{AtomicU64, Ordering};

/// Identities for stores, so an executable knows when it must re-bind names.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

struct Entry {
    name: String,
    /// `"param"` or `"state"` (or `"tensor"` when added without a plan), for messages.
    kind: &'static str,
    ty: TensorType,
    buf: AlignedBuf,
}

/// Named tensors that persist between runs. See the module docs.
pub struct ParamStore {
    id: u64,
    entries: Vec<Entry>,
}

impl Default for ParamStore {
    fn default() -> ParamStore {
        ParamStore::new()
    }
}

impl Clone for ParamStore {
    /// A deep copy with its own buffers (and so its own identity).
    fn clone(&self) -> ParamStore {
        ParamStore {
            id: fresh_id(),
            entries: self
                .entries
                .iter()
                .map(|e| Entry {
                    name: e.name.clone(),
                    kind: e.kind,
                    ty: e.ty.clone(),
                    buf: e.buf.clone(),
                })
                .collect(),
        }
    }
}

impl std::fmt::Debug for ParamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for e in &self.entries {
            m.entry(&e.name, &format_args!("{} {}", e.kind, e.ty));
        }
        m.finish()
    }
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> ParamStore {
        ParamStore {
            id: fresh_id(),
            entries: Vec::new(),
        }
    }

    /// A fresh store for `plan`: every param and state slot initialized from
    /// its `init` with `seed`, exactly as `kiln_ir::init::init_store` does for
    /// the graph (a slot without an initializer starts at zeros).
    pub fn for_plan(plan: &Plan, seed: u64) -> ParamStore {
        let mut store = ParamStore::new();
        store.init_missing(plan, seed);
        store
    }

    /// Adds, initialized with `seed`, every param and state of `plan` the
    /// store does not have yet (to bind a second plan that has new tensors).
    pub fn init_missing(&mut self, plan: &Plan, seed: u64) {
        let slots = (plan.params.iter().map(|s| ("param", s)))
            .chain(plan.states.iter().map(|s| ("state", s)));
        for (kind, slot) in slots {
            if self.find(&slot.name).is_some() {
                continue;
            }
            let init = slot.init.clone().unwrap_or(Init::Zeros);
            let value: Value<f32> = initial_value(&init, &slot.ty, seed, &slot.name);
            self.push(&slot.name, kind, &value);
        }
    }

    /// A store holding copies of `env`'s values.
    pub fn from_env(env: &Env<f32>) -> ParamStore {
        let mut store = ParamStore::new();
        for (name, value) in env {
            store.push(name, "tensor", value);
        }
        store
    }

    /// Copies of every tensor, keyed by name (the evaluator's store).
    pub fn to_env(&self) -> Env<f32> {
        self.entries
            .iter()
            .map(|e| (e.name.clone(), self.value_of(e)))
            .collect()
    }

    fn value_of(&self, e: &Entry) -> Value<f32> {
        let shape = e.ty.shape.clone();
        match e.ty.dtype {
            DType::F32 => Value::Float(kiln_ir::eval::Array {
                shape,
                data: e.buf.as_f32().to_vec(),
            }),
            DType::I32 => Value::Int(kiln_ir::eval::Array {
                shape,
                data: e.buf.as_i32().to_vec(),
            }),
        }
    }

    fn push(&mut self, name: &str, kind: &'static str, value: &Value<f32>) {
        let ty = value.ty();
        let bits: Vec<u32> = match value {
            Value::Float(a) => a.data.iter().map(|x| x.to_bits()).collect(),
            Value::Int(a) => a.data.iter().map(|&x| x as u32).collect(),
        };
        self.entries.push(Entry {
            name: name.into(),
            kind,
            ty,
            buf: AlignedBuf::from_bits(&bits),
        });
    }

    /// Adds a tensor, or overwrites an existing one of the same type.
    pub fn insert(&mut self, name: &str, value: TensorRef<'_>) -> Result<(), RuntimeError> {
        if self.find(name).is_some() {
            return self.set(name, value);
        }
        let v = value.to_value().map_err(|_| RuntimeError::DataLength {
            kind: "tensor",
            name: name.into(),
            shape: value.shape().to_vec(),
            expected: value.numel(),
            found: value.data_len(),
        })?;
        self.push(name, "tensor", &v);
        Ok(())
    }

    /// Overwrites an existing tensor with a value of the same type, in place.
    pub fn set(&mut self, name: &str, value: TensorRef<'_>) -> Result<(), RuntimeError> {
        let Some(i) = self.find(name) else {
            return Err(RuntimeError::UnknownParam {
                name: name.into(),
                valid: self.names().map(String::from).collect(),
            });
        };
        let e = &mut self.entries[i];
        if value.dtype() != e.ty.dtype || value.shape() != e.ty.shape.dims() {
            return Err(RuntimeError::ParamType {
                kind: e.kind,
                name: name.into(),
                expected: e.ty.clone(),
                found: value.ty(),
            });
        }
        value.check_len(e.kind, name)?;
        match value.data() {
            TensorData::F32(d) => e.buf.as_f32_mut().copy_from_slice(d),
            TensorData::I32(d) => e.buf.as_i32_mut().copy_from_slice(d),
        }
        Ok(())
    }

    /// A tensor by name.
    pub fn get(&self, name: &str) -> Option<TensorRef<'_>> {
        let e = &self.entries[self.find(name)?];
        Some(match e.ty.dtype {
            DType::F32 => TensorRef::f32(e.ty.shape.dims(), e.buf.as_f32()),
            DType::I32 => TensorRef::i32(e.ty.shape.dims(), e.buf.as_i32()),
        })
    }

    /// A tensor's type by name.
    pub fn ty(&self, name: &str) -> Option<&TensorType> {
        self.find(name).map(|i| &self.entries[i].ty)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Names in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// This store's identity (a clone gets a new one).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The position of a name (linear: stores are small and this runs at bind time).
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    pub(crate) fn entry_ty(&self, i: usize) -> &TensorType {
        &self.entries[i].ty
    }

    /// The buffer of entry `i`, for the run's base table.
    pub(crate) fn entry_ptr(&mut self, i: usize) -> *mut f32 {
        self.entries[i].buf.as_mut_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_copies_in_place_and_checks_types() {
        let mut s = ParamStore::new();
        s.insert("w", TensorRef::f32(&[2], &[1.0, 2.0])).unwrap();
        let before = s.get("w").unwrap().as_ptr();
        s.set("w", TensorRef::f32(&[2], &[3.0, 4.0])).unwrap();
        let w = s.get("w").unwrap();
        assert_eq!(w.as_f32().unwrap(), &[3.0, 4.0]);
        assert_eq!(w.as_ptr(), before);
        let e = s.set("w", TensorRef::f32(&[3], &[0.0; 3])).unwrap_err();
        assert_eq!(e.to_string(), "tensor `w`: expected f32[2], got f32[3]");
        let e = s.set("v", TensorRef::f32(&[3], &[0.0; 3])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no param or state named `v`; known names: `w`"
        );
        assert!(s.clone().id() != s.id());
    }
}
