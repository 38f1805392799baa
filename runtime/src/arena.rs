//! Owned, 64-byte aligned, fixed-size buffers of 4-byte elements.
//!
//! The arena, the constants and every parameter of the store live in one of
//! these. A buffer is allocated once, zeroed, and never moves or grows, so the
//! raw pointers the executor hands to kernels stay valid for the buffer's whole
//! life (and a later test can check that parameter addresses never change).
//! 64 bytes is a cache line and an AVX-512 register: kernels may rely on a
//! region's start being aligned for vector loads.
//!
//! This file, `workers.rs` and `kernels/` are the only places with `unsafe`.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Alignment of every buffer, in bytes.
pub const ALIGN: usize = 64;

/// Elements per alignment unit: offsets rounded up to this stay aligned.
pub const ALIGN_ELEMS: usize = ALIGN / 4;

/// Rounds an element count up to a multiple of [`ALIGN_ELEMS`].
pub fn round_up(elems: usize) -> usize {
    elems.div_ceil(ALIGN_ELEMS) * ALIGN_ELEMS
}

/// A zero-initialised, 64-byte aligned heap buffer of `len` 4-byte elements,
/// viewed as `f32` (i32 data is stored in the same bits).
pub struct AlignedBuf {
    ptr: NonNull<f32>,
    len: usize,
}

// SAFETY: the buffer exclusively owns its allocation (like a `Box<[f32]>`),
// so moving it to or sharing it with another thread is as safe as for a box;
// all mutation goes through `&mut self` or through the executor, which holds
// `&mut` to the buffer's owner while kernels write.
unsafe impl Send for AlignedBuf {}
// SAFETY: see `Send`; `&AlignedBuf` only gives shared reads.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// A zeroed buffer of `len` elements.
    ///
    /// Aborts (like `Vec`) if the allocator fails; panics only if `len * 4`
    /// overflows `isize`, which no plan that passed validation can ask for.
    pub fn zeroed(len: usize) -> AlignedBuf {
        if len == 0 {
            return AlignedBuf {
                ptr: Self::dangling(),
                len: 0,
            };
        }
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) } as *mut f32;
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        AlignedBuf { ptr, len }
    }

    /// A buffer holding a copy of `bits` (f32 or i32 elements as raw bits).
    pub fn from_bits(bits: &[u32]) -> AlignedBuf {
        let mut buf = AlignedBuf::zeroed(bits.len());
        buf.as_bits_mut().copy_from_slice(bits);
        buf
    }

    fn layout(len: usize) -> Layout {
        let bytes = len.checked_mul(4).expect("buffer size overflows usize");
        Layout::from_size_align(bytes, ALIGN).expect("buffer size overflows isize")
    }

    fn dangling() -> NonNull<f32> {
        // A non-null, suitably aligned address that is never dereferenced
        // (a zero-length buffer has no elements to read).
        NonNull::new(ALIGN as *mut f32).unwrap_or(NonNull::dangling())
    }

    /// Number of 4-byte elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The start of the buffer, for kernels. Writing through it requires that
    /// no reference to the buffer's contents is alive.
    pub fn as_mut_ptr(&mut self) -> *mut f32 {
        self.ptr.as_ptr()
    }

    /// The start of the buffer without a `&mut` borrow: the executor stores it
    /// in its table of region bases while it holds the buffer's owner mutably.
    pub fn base_ptr(&self) -> *mut f32 {
        self.ptr.as_ptr()
    }

    pub fn as_f32(&self) -> &[f32] {
        // SAFETY: `ptr` is valid for `len` initialised (zeroed or written) f32s,
        // aligned, and we hand out a shared borrow tied to `&self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_f32_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_f32`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_i32(&self) -> &[i32] {
        // SAFETY: every bit pattern is a valid i32, and i32 has f32's size and alignment.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const i32, self.len) }
    }

    pub fn as_i32_mut(&mut self) -> &mut [i32] {
        // SAFETY: as in `as_i32`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut i32, self.len) }
    }

    pub fn as_bits_mut(&mut self) -> &mut [u32] {
        // SAFETY: every bit pattern is a valid u32 of f32's size and alignment.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut u32, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `zeroed` with exactly this layout.
            unsafe { alloc::dealloc(self.ptr.as_ptr() as *mut u8, Self::layout(self.len)) }
        }
    }
}

impl Clone for AlignedBuf {
    fn clone(&self) -> AlignedBuf {
        let mut buf = AlignedBuf::zeroed(self.len);
        buf.as_f32_mut().copy_from_slice(self.as_f32());
        buf
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBuf({} elements at {:p})", self.len, self.ptr)
    }
}

/// The base address of every region for the current run, indexed by slot
/// (inputs, params, states, the constant pool, the arena).
///
/// Raw pointers make a type neither `Send` nor `Sync`; the table is only read
/// while its owner runs a plan (which borrows the owner mutably), and it is
/// rewritten at the start of every run, so moving it across threads between
/// runs is harmless.
pub(crate) struct BaseTable(pub(crate) Vec<*mut f32>);

// SAFETY: see the type's doc: the pointers are plain addresses between runs;
// they are only dereferenced by kernels during a run, under `&mut` of the owner.
unsafe impl Send for BaseTable {}
// SAFETY: shared access only reads the addresses (outputs read through them
// while the run's borrows of the arena and the store are still held).
unsafe impl Sync for BaseTable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_and_zeroed() {
        for len in [0, 1, 3, 17, 1000] {
            let b = AlignedBuf::zeroed(len);
            assert_eq!(b.base_ptr() as usize % ALIGN, 0);
            assert_eq!(b.len(), len);
            assert!(b.as_f32().iter().all(|&x| x == 0.0));
        }
        let b = AlignedBuf::from_bits(&[1.5f32.to_bits(), (-3i32) as u32]);
        assert_eq!(b.as_f32()[0], 1.5);
        assert_eq!(b.as_i32()[1], -3);
        assert_eq!(round_up(17), 32);
        assert_eq!(round_up(0), 0);
    }
}
