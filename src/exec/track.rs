//! Which processes belong to which program: its own process, everything in its process group,
//! and every descendant, including those that left the group or the session (a daemonizing
//! server's child). The supervisor is PID 1 of the run's PID namespace (a child subreaper in
//! host isolation), so every orphan of the run is re-parented to it.
//!
//! On each tick the supervisor reads `/proc/*/stat` and attributes each process it has not
//! placed yet, by the first rule that applies:
//!
//! 0. **Cgroup**: when the run caps processes with a pids cgroup per program, the cgroup the
//!    kernel put it in (children inherit it, whatever they do with their session).
//! 1. **Ancestry**: its chain of parents reaches a known member of a program.
//! 2. **Session or group**: its session id or process group id is the pid of a member of
//!    exactly one program (a daemon's grandchild whose parent, the session leader, exited before
//!    it was seen).
//! 3. **Time**: it is an orphan (its parent is the supervisor) and exactly one program could
//!    have made it: started before it, and not yet wholly ended when it started.
//!
//! Membership is sticky: a member stays one until it ends, whatever it does with its group or
//! session. A process none of the rules places (two programs could have made it) is a *stray*:
//! reported in the warnings and killed at teardown with the rest. Processes whose ancestry leads
//! out of the supervisor's tree (other processes of the host, in host isolation) are ignored.

use std::collections::HashMap;

use super::procfs::Stat;

/// What the rules need to know about one program.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// (pid, start time) of every member so far, also those that ended; the program's own
    /// process first (none: not started).
    pub members: Vec<(i32, u64)>,
    /// When its last member was seen gone (clock ticks since boot); None: some member lives.
    pub ended: Option<u64>,
}

impl Known {
    fn has(&self, pid: i32, start: u64) -> bool {
        self.members.iter().any(|&(p, s)| p == pid && s == start)
    }

    fn has_pid(&self, pid: i32) -> bool {
        self.members.iter().any(|&(p, _)| p == pid)
    }

    /// Start time of the program's own process (clock ticks since boot); None: not started.
    fn started(&self) -> Option<u64> {
        self.members.first().map(|&(_, s)| s)
    }
}

/// Where an unplaced process goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Program(usize),
    /// In the supervisor's tree, but no rule decides between the programs (yet).
    Stray,
    /// Not in the supervisor's tree.
    Foreign,
}

/// Attributes every process of `table` that is not yet a member of a program. `us` is the
/// supervisor's pid; `cgroup_of` names the program whose own pids cgroup holds a process, when
/// the run caps processes with one cgroup per program (rule 0: the kernel's record, which
/// neither a new session nor a parent's exit changes). Pure apart from `cgroup_of`.
pub(crate) fn attribute(
    table: &HashMap<i32, Stat>,
    programs: &[Known],
    us: i32,
    cgroup_of: impl Fn(i32) -> Option<usize>,
) -> Vec<(i32, Place)> {
    let member_of = |pid: i32, start: u64, extra: &[(i32, usize)]| {
        programs
            .iter()
            .position(|k| k.has(pid, start))
            .or_else(|| extra.iter().find(|(p, _)| *p == pid).map(|(_, i)| *i))
    };
    let mut placed: Vec<(i32, usize)> = Vec::new();
    let mut pids: Vec<i32> = table.keys().copied().collect();
    pids.sort_unstable();
    let unplaced: Vec<i32> = pids
        .into_iter()
        .filter(|&p| p != us && member_of(p, table[&p].start, &[]).is_none())
        .collect();
    // Two passes: a process placed by rule 2 or 3 may be the ancestor of another.
    for _ in 0..2 {
        for &pid in &unplaced {
            if placed.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            let st = &table[&pid];
            // 0. the program's cgroup
            if let Some(i) = cgroup_of(pid).filter(|&i| i < programs.len()) {
                placed.push((pid, i));
                continue;
            }
            let found = match lineage(table, pid, us, |p, s| member_of(p, s, &placed)) {
                // 1. ancestry
                Lineage::Program(i) => Some(i),
                // 2. session or group
                Lineage::Ours => only((0..programs.len()).filter(|&i| {
                    // A session or group it leads itself says nothing of its origin.
                    [st.session, st.pgrp].iter().any(|&id| {
                        id != pid && (programs[i].has_pid(id) || placed.contains(&(id, i)))
                    })
                }))
                // 3. time
                .or_else(|| only_maker(programs, st).filter(|_| st.ppid == us)),
                Lineage::Foreign => None,
            };
            if let Some(i) = found {
                placed.push((pid, i));
            }
        }
    }
    unplaced
        .into_iter()
        .map(|pid| {
            let place = match placed.iter().find(|(p, _)| *p == pid) {
                Some((_, i)) => Place::Program(*i),
                None => match lineage(table, pid, us, |_, _| None) {
                    Lineage::Foreign => Place::Foreign,
                    _ => Place::Stray,
                },
            };
            (pid, place)
        })
        .collect()
}

/// Where the chain of a process's parents leads.
enum Lineage {
    /// To a process `member` places in this program.
    Program(usize),
    /// To the supervisor, through no placed process.
    Ours,
    /// Out of the supervisor's tree (or into a loop, or too deep).
    Foreign,
}

/// Follows `pid`'s parents in `table` up to the supervisor `us`, stopping at the first one
/// `member` (pid, start time) places in a program.
fn lineage(
    table: &HashMap<i32, Stat>,
    pid: i32,
    us: i32,
    member: impl Fn(i32, u64) -> Option<usize>,
) -> Lineage {
    let mut cur = table[&pid].ppid;
    for _ in 0..64 {
        if cur == us {
            return Lineage::Ours;
        }
        let Some(parent) = table.get(&cur) else {
            break;
        };
        if let Some(i) = member(cur, parent.start) {
            return Lineage::Program(i);
        }
        cur = parent.ppid;
    }
    Lineage::Foreign
}

/// The one program that could have made orphan `st`: started before it, and not yet wholly
/// ended when it started.
fn only_maker(programs: &[Known], st: &Stat) -> Option<usize> {
    only((0..programs.len()).filter(|&i| {
        let k = &programs[i];
        k.started().is_some_and(|s| s <= st.start) && k.ended.is_none_or(|e| e >= st.start)
    }))
}

/// The one program `candidates` names; None when it names none or several.
fn only(mut candidates: impl Iterator<Item = usize>) -> Option<usize> {
    let first = candidates.next()?;
    candidates.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(ppid: i32, pgrp: i32, session: i32, start: u64) -> Stat {
        Stat {
            comm: "python3".into(),
            state: 'S',
            ppid,
            pgrp,
            session,
            ticks: 0,
            start,
        }
    }

    fn known(members: &[(i32, u64)], ended: Option<u64>) -> Known {
        Known {
            members: members.to_vec(),
            ended,
        }
    }

    #[test]
    fn children_and_grandchildren_follow_their_ancestry() {
        let table: HashMap<i32, Stat> = [
            (2, st(1, 2, 1, 10)),
            (3, st(2, 2, 1, 11)),
            (4, st(3, 4, 4, 12)), // setsid'ed grandchild
            (5, st(1, 5, 1, 10)),
        ]
        .into();
        let programs = [known(&[(2, 10)], None), known(&[(5, 10)], None)];
        let mut got = attribute(&table, &programs, 1, |_| None);
        got.sort_unstable_by_key(|(p, _)| *p);
        assert_eq!(got, vec![(3, Place::Program(0)), (4, Place::Program(0))]);
    }

    #[test]
    fn an_orphan_goes_to_the_program_whose_session_it_is_in() {
        // Program 0's pid 3 called setsid and exited; its child 4 was re-parented to PID 1.
        let table: HashMap<i32, Stat> = [
            (2, st(1, 2, 1, 10)),
            (4, st(1, 3, 3, 12)),
            (5, st(1, 5, 1, 10)),
        ]
        .into();
        let programs = [known(&[(2, 10), (3, 11)], None), known(&[(5, 10)], None)];
        assert_eq!(
            attribute(&table, &programs, 1, |_| None),
            vec![(4, Place::Program(0))]
        );
    }

    #[test]
    fn an_orphan_of_unknown_ancestry_goes_to_the_only_program_that_could_have_made_it() {
        // Program 0 ended at tick 20; program 1 started at tick 30.
        let table: HashMap<i32, Stat> = [(5, st(1, 5, 1, 30)), (9, st(1, 9, 9, 40))].into();
        let mut programs = [known(&[(2, 10)], Some(20)), known(&[(5, 30)], None)];
        assert_eq!(
            attribute(&table, &programs, 1, |_| None),
            vec![(9, Place::Program(1))]
        );
        // Both alive when it started: nobody can tell.
        programs[0].ended = None;
        assert_eq!(
            attribute(&table, &programs, 1, |_| None),
            vec![(9, Place::Stray)]
        );
    }

    #[test]
    fn an_orphan_in_a_programs_cgroup_is_that_programs_whatever_its_time() {
        // Both programs started in the same clock tick as the orphan: time cannot tell.
        let table = HashMap::from([(9, st(1, 9, 9, 100))]);
        let programs = vec![known(&[(2, 100)], None), known(&[(3, 100)], None)];
        assert_eq!(
            attribute(&table, &programs, 1, |_| None),
            vec![(9, Place::Stray)]
        );
        let cgroup = |pid: i32| (pid == 9).then_some(0);
        assert_eq!(
            attribute(&table, &programs, 1, cgroup),
            vec![(9, Place::Program(0))]
        );
    }

    #[test]
    fn processes_outside_the_supervisors_tree_are_foreign() {
        let table: HashMap<i32, Stat> = [(700, st(1, 700, 700, 5)), (50, st(1, 50, 50, 6))].into();
        let programs = [known(&[(60, 10)], None)];
        let got = attribute(&table, &programs, 50, |_| None);
        assert_eq!(got, vec![(700, Place::Foreign)]);
    }

    #[test]
    fn a_reused_pid_is_not_a_member() {
        let table: HashMap<i32, Stat> = [(3, st(1, 3, 3, 99)), (4, st(3, 3, 3, 100))].into();
        // Program 1's own process is pid 8, started at tick 90.
        let programs = [known(&[(3, 11)], Some(50)), known(&[(8, 90)], None)];
        // Pid 3 now is another process (start 99), made after program 0 ended.
        let mut got = attribute(&table, &programs, 1, |_| None);
        got.sort_unstable_by_key(|(p, _)| *p);
        assert_eq!(got, vec![(3, Place::Program(1)), (4, Place::Program(1))]);
    }
}
