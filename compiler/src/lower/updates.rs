//! In-place updates: the step that computes a parameter's (or state's) new
//! value writes it straight into the parameter's own memory, instead of into a
//! temporary that a final copy moves back.
//!
//! Lowering first expresses every `update` as a copy step at the end of the
//! plan (always correct: every read of the old value comes earlier). This
//! module then removes each copy whose value can be written in place: the
//! value must be the whole of one temporary `t`, written by one step `s`, and
//! every other read of the parameter's old value must come before `s`, or be
//! `s` itself reading it element by element through the identical view (an
//! elementwise kernel may overwrite its input). Reads of `t` after `s` then
//! read the parameter instead, which holds the same value from `s` on.
//! Updates that fail the test keep their copy.

use kiln_ir::plan::{Kernel, Plan, Region, View};

/// Rewrites the update copies of `plan` into in-place writes where safe, and
/// drops the temporaries that no longer hold anything.
pub fn write_in_place(plan: &mut Plan) {
    let mut i = 0;
    while i < plan.steps.len() {
        if is_update_copy(plan, i) && try_in_place(plan, i) {
            plan.steps.remove(i);
        } else {
            i += 1;
        }
    }
    drop_unused_temps(plan);
}

/// A copy step (not computing a node) into a param or state region.
fn is_update_copy(plan: &Plan, i: usize) -> bool {
    let s = &plan.steps[i];
    s.kernel == Kernel::Copy
        && s.node.is_none()
        && matches!(s.output.region, Region::Param(_) | Region::State(_))
}

/// Tries to make the step producing update copy `copy`'s value write into the
/// target region; `true` if it did (the copy is then redundant).
fn try_in_place(plan: &mut Plan, copy: usize) -> bool {
    let target = plan.steps[copy].output.clone();
    let src = plan.steps[copy].inputs[0].clone();
    let Region::Temp(t) = src.region else {
        return false;
    };
    let whole = |v: &View| {
        v.offset == 0 && v.is_contiguous() && v.shape == target.shape && v.dtype == target.dtype
    };
    if !whole(&src) || plan.temps[t as usize].ty != target.ty() {
        return false;
    }
    let Some(s) = plan
        .steps
        .iter()
        .position(|st| st.output.region == src.region)
    else {
        return false;
    };
    if !whole(&plan.steps[s].output) {
        return false;
    }
    // Every other read of the target's old value happens before `s`, or at `s`
    // through the identical view of an elementwise kernel.
    let reads_old = |i: usize| {
        let st = &plan.steps[i];
        st.inputs
            .iter()
            .chain(st.scratch.iter())
            .any(|v| v.region == target.region)
    };
    for i in 0..plan.steps.len() {
        if i == copy || !reads_old(i) {
            continue;
        }
        let ok = i < s
            || (i == s
                && plan.steps[i].kernel.is_elementwise()
                && plan.steps[i]
                    .inputs
                    .iter()
                    .filter(|v| v.region == target.region)
                    .all(|v| *v == target));
        if !ok {
            return false;
        }
    }
    // Outputs of the old value were already copied out by a step after `s`
    // (lowering copies every output in an updated region), which failed the
    // check above.
    debug_assert!(plan.outputs.iter().all(|(_, v)| v.region != target.region));
    // Write in place and let later readers of `t` read the target instead.
    plan.steps[s].output = target.clone();
    let redirect = |v: &mut View| {
        if v.region == src.region {
            v.region = target.region;
        }
    };
    for st in plan.steps.iter_mut().skip(s + 1) {
        st.inputs.iter_mut().for_each(redirect);
    }
    plan.outputs.iter_mut().for_each(|(_, v)| redirect(v));
    true
}

/// Removes temporaries no step or output refers to and renumbers the rest.
fn drop_unused_temps(plan: &mut Plan) {
    let mut used = vec![false; plan.temps.len()];
    let mut mark = |v: &View| {
        if let Region::Temp(t) = v.region {
            used[t as usize] = true;
        }
    };
    for st in &plan.steps {
        st.inputs
            .iter()
            .chain(std::iter::once(&st.output))
            .chain(st.scratch.iter())
            .for_each(&mut mark);
    }
    plan.outputs.iter().for_each(|(_, v)| mark(v));
    let mut renumber = vec![0u32; plan.temps.len()];
    let mut next = 0;
    for (i, &u) in used.iter().enumerate() {
        renumber[i] = next;
        if u {
            next += 1;
        }
    }
    let fix = |v: &mut View| {
        if let Region::Temp(t) = v.region {
            v.region = Region::Temp(renumber[t as usize]);
        }
    };
    for st in &mut plan.steps {
        st.inputs.iter_mut().for_each(fix);
        fix(&mut st.output);
        st.scratch.iter_mut().for_each(fix);
    }
    plan.outputs.iter_mut().for_each(|(_, v)| fix(v));
    let mut keep = used.iter();
    plan.temps.retain(|_| *keep.next().unwrap_or(&false));
}

#[cfg(test)]
mod tests {
    use crate::lower::lower;
    use kiln_ir::plan::{Kernel, Region};

    fn plan_of(text: &str) -> kiln_ir::plan::Plan {
        let graph = kiln_ir::parse(text).expect("valid text");
        kiln_ir::verify(&graph).expect("valid graph");
        lower(&graph).expect("lowers")
    }

    #[test]
    fn sgd_writes_the_new_weight_over_the_old_one() {
        let plan = plan_of(
            "graph g {\n  %0: f32[4] = param \"w\" init=zeros\n  %1: f32[4] = input \"g\"\n  %2: f32[4] = sub %0, %1\n  %3: f32[] = reduce_sum %0 axes=[0]\n  output \"norm\" = %3\n  update \"w\" <- %2\n}\n",
        );
        assert!(
            plan.steps.iter().all(|s| s.kernel != Kernel::Copy),
            "{plan}"
        );
        let sub = plan
            .steps
            .iter()
            .find(|s| matches!(s.kernel, Kernel::Binary(_)))
            .expect("the sub step");
        assert_eq!(sub.output.region, Region::Param(0));
        // The reduction reads the old w, so it must run first.
        let reduce = plan
            .steps
            .iter()
            .position(|s| matches!(s.kernel, Kernel::Reduce { .. }))
            .expect("reduce");
        let sub_at = plan
            .steps
            .iter()
            .position(|s| matches!(s.kernel, Kernel::Binary(_)))
            .expect("sub");
        assert!(reduce < sub_at);
        assert_eq!(
            plan.temps.len(),
            1,
            "only the reduction needs a temporary:\n{plan}"
        );
    }

    #[test]
    fn swapping_two_params_keeps_the_copies() {
        let plan = plan_of(
            "graph g {\n  %0: f32[2] = param \"a\" init=zeros\n  %1: f32[2] = param \"b\" init=ones\n  %2: f32[2] = neg %0\n  %3: f32[2] = neg %1\n  %4: f32[2] = neg %2\n  %5: f32[2] = neg %3\n  update \"a\" <- %5\n  update \"b\" <- %4\n}\n",
        );
        // a's new value is computed first, while b's computation still has to
        // read the old a: a keeps its copy; b is written in place.
        let copies = plan
            .steps
            .iter()
            .filter(|s| s.kernel == Kernel::Copy)
            .count();
        assert_eq!(copies, 1, "{plan}");
        let swap = plan_of(
            "graph g {\n  %0: f32[2] = param \"a\" init=zeros\n  %1: f32[2] = param \"b\" init=ones\n  update \"a\" <- %1\n  update \"b\" <- %0\n}\n",
        );
        assert_eq!(
            swap.steps
                .iter()
                .filter(|s| s.kernel == Kernel::Copy)
                .count(),
            3,
            "{swap}"
        );
    }

    #[test]
    fn an_output_of_the_old_value_is_copied_out_before_the_update() {
        // The output must show w before the run; its copy reads w after exp,
        // so exp cannot write into w, and the update keeps its final copy.
        let plan = plan_of(
            "graph g {\n  %0: f32[2] = param \"w\" init=zeros\n  %1: f32[2] = exp %0\n  output \"old\" = %0\n  update \"w\" <- %1\n}\n",
        );
        let exp = plan
            .steps
            .iter()
            .position(|s| matches!(s.kernel, Kernel::Unary(_)))
            .expect("exp");
        assert!(
            matches!(plan.steps[exp].output.region, Region::Temp(_)),
            "{plan}"
        );
        let copy_out = plan
            .steps
            .iter()
            .position(|s| s.kernel == Kernel::Copy && s.inputs[0].region == Region::Param(0));
        let write_w = plan
            .steps
            .iter()
            .position(|s| s.output.region == Region::Param(0));
        assert!(copy_out < write_w, "{plan}");
        assert!(
            matches!(plan.outputs[0].1.region, Region::Temp(_)),
            "{plan}"
        );
    }
}
