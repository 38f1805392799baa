//! Memory planning: one arena offset for every temporary.
//!
//! Each temporary lives from the step that writes it to the last step that
//! reads it (through any view). Two temporaries may share bytes only if their
//! lifetimes do not overlap, except for in-place pairs: an elementwise step may
//! write its result over an input that dies at that step, and the lowering
//! marks such pairs as aliases (one buffer). Buffers are placed largest first,
//! each at the lowest 64-byte-aligned offset that no live buffer occupies, the
//! classic greedy-by-size offset assignment.

/// Offsets are multiples of this many elements (64 bytes: one cache line, one
/// AVX-512 vector).
pub const ALIGN: usize = 16;

/// A temporary's size (elements) and lifetime (first and last step, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    pub size: usize,
    pub start: usize,
    pub end: usize,
}

/// Offsets for every temporary and the arena size, both in elements.
/// `aliases` pairs `(a, b)` must share one offset (in-place updates).
pub fn assign_offsets(temps: &[Lifetime], aliases: &[(usize, usize)]) -> (Vec<usize>, usize) {
    let mut parent: Vec<usize> = (0..temps.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b) in aliases {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[rb.max(ra)] = rb.min(ra);
        }
    }
    // One buffer per alias group, spanning its members' lifetimes.
    let mut groups: Vec<Option<Lifetime>> = vec![None; temps.len()];
    for (i, t) in temps.iter().enumerate() {
        let r = root(&mut parent, i);
        groups[r] = Some(match groups[r] {
            None => *t,
            Some(g) => Lifetime {
                size: g.size.max(t.size),
                start: g.start.min(t.start),
                end: g.end.max(t.end),
            },
        });
    }
    let mut order: Vec<usize> = (0..temps.len()).filter(|&i| groups[i].is_some()).collect();
    order.sort_by_key(|&i| {
        let g = groups[i].expect("filtered");
        (std::cmp::Reverse(g.size), g.start, i)
    });

    let mut placed: Vec<(usize, Lifetime)> = Vec::new();
    let mut group_offset = vec![0; temps.len()];
    let mut arena = 0;
    for i in order {
        let g = groups[i].expect("filtered");
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|(_, p)| p.start <= g.end && g.start <= p.end)
            .map(|(off, p)| (*off, p.size))
            .collect();
        busy.sort_unstable();
        let mut offset = 0;
        for (off, size) in busy {
            if offset + g.size <= off {
                break;
            }
            offset = offset.max(align(off + size));
        }
        group_offset[i] = offset;
        arena = arena.max(offset + g.size);
        placed.push((offset, g));
    }
    let offsets = (0..temps.len())
        .map(|i| group_offset[root(&mut parent, i)])
        .collect();
    (offsets, align(arena))
}

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(size: usize, start: usize, end: usize) -> Lifetime {
        Lifetime { size, start, end }
    }

    #[test]
    fn disjoint_lifetimes_share_bytes_and_overlapping_ones_do_not() {
        // a chain: t0 -> t1 -> t2, each read only by the next step.
        let temps = [lt(100, 0, 1), lt(100, 1, 2), lt(100, 2, 3)];
        let (offsets, arena) = assign_offsets(&temps, &[]);
        assert_eq!(offsets[0], offsets[2]);
        assert_ne!(offsets[0], offsets[1]);
        assert_eq!(arena, 2 * align(100));
    }

    #[test]
    fn aliases_share_one_offset() {
        let temps = [lt(64, 0, 1), lt(64, 1, 2)];
        let (offsets, arena) = assign_offsets(&temps, &[(0, 1)]);
        assert_eq!(offsets[0], offsets[1]);
        assert_eq!(arena, 64);
    }

    #[test]
    fn no_two_live_buffers_overlap() {
        let temps: Vec<Lifetime> = (0..40)
            .map(|i| lt(1 + (i * 37) % 300, i % 7, i % 7 + (i * 13) % 9))
            .collect();
        let (offsets, arena) = assign_offsets(&temps, &[]);
        for i in 0..temps.len() {
            assert!(offsets[i] + temps[i].size <= arena);
            assert_eq!(offsets[i] % ALIGN, 0);
            for j in 0..i {
                let live = temps[i].start <= temps[j].end && temps[j].start <= temps[i].end;
                let overlap = offsets[i] < offsets[j] + temps[j].size
                    && offsets[j] < offsets[i] + temps[i].size;
                assert!(!(live && overlap), "temps {i} and {j} overlap");
            }
        }
    }
}
