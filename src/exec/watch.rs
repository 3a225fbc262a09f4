//! The blocked rule and a program's own clock, over samples of `/proc` (pure: samples and their
//! times come in as values, so the rule is tested without processes or a clock).
//!
//! **Blocked** means *waiting for input*: every live process of the program (its process group
//! and its detached descendants) is asleep (`S` or `D`, every thread), at least one thread sleeps
//! waiting for input — a receive or an accept on a socket, a read of its standard input, or a
//! poll/select/epoll wait on some descriptor — and between two samples at least
//! [`Judge::gap`] apart nothing of the program ran: its threads' run counts and CPU time
//! (`schedstat`), its set of processes and its output bytes are unchanged. A program sleeping in
//! `time.sleep`, waiting for a child, spinning, or writing a flood is not blocked. A busy machine
//! can only delay the samples, never make a running program look asleep: the kernel marks a
//! woken thread runnable at once, and any run in between changes its counters.
//!
//! **Program time**: the windows of `expect_*` and `wait_ready` steps count the time the program
//! could have used, not wall time: wall time minus the time its most starved thread spent
//! runnable but waiting for a CPU (`schedstat`'s run delay). On an idle machine the two are
//! equal; on a loaded one the window stretches by exactly the time the program was kept off the
//! CPU, so a slow start under load is never judged as "not ready" or "not blocked".

use std::collections::HashMap;
use std::time::Duration;

use super::procfs::{InputWait, TaskSample};

/// One process of a program, at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcSample {
    pub pid: i32,
    pub tasks: Vec<TaskSample>,
}

/// A program at one moment: its live processes (the first is its own, when alive) and the
/// output bytes recorded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Since the run's epoch.
    pub at: Duration,
    pub procs: Vec<ProcSample>,
    pub output_bytes: u64,
}

/// What must stand still between two samples.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Activity {
    tasks: Vec<(i32, i32)>,
    run_ns: u64,
    runs: u64,
    ticks: u64,
    output_bytes: u64,
}

impl Sample {
    fn tasks(&self) -> impl Iterator<Item = (i32, &TaskSample)> {
        self.procs
            .iter()
            .flat_map(|p| p.tasks.iter().map(move |t| (p.pid, t)))
    }

    /// Asleep waiting for input, judged from this sample alone: the wait found (the program's
    /// own process first).
    pub(crate) fn waiting(&self) -> Option<InputWait> {
        let mut tasks = self.tasks().peekable();
        tasks.peek()?;
        let mut found = None;
        for (_, t) in tasks {
            if !matches!(t.state, 'S' | 'D') {
                return None;
            }
            if found.is_none() {
                found = t.wait;
            }
        }
        found
    }

    fn activity(&self) -> Activity {
        let mut tasks: Vec<(i32, i32)> = self.tasks().map(|(p, t)| (p, t.tid)).collect();
        tasks.sort_unstable();
        Activity {
            tasks,
            run_ns: self.tasks().map(|(_, t)| t.sched.run_ns).sum(),
            runs: self.tasks().map(|(_, t)| t.sched.runs).sum(),
            ticks: self.tasks().map(|(_, t)| t.ticks).sum(),
            output_bytes: self.output_bytes,
        }
    }

    /// Whether the kernel keeps scheduler statistics (exact counters) for these tasks.
    fn exact(&self) -> bool {
        self.tasks().any(|(_, t)| t.sched.runs > 0)
    }
}

/// The verdict "blocked", with what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub wait: InputWait,
    /// When the quiet stretch began: the first sample that saw it waiting, unchanged since.
    pub since: Duration,
}

/// Feeds on samples and says when the program is blocked.
#[derive(Debug, Clone)]
pub(crate) struct Judge {
    /// Least time between the two samples that must agree.
    gap: Duration,
    quiet: Option<(Duration, Activity)>,
}

/// Without schedstat, CPU time comes in clock ticks (10 ms): the two samples must lie further
/// apart for a tick to show.
const COARSE_GAP: Duration = Duration::from_millis(30);

impl Judge {
    pub(crate) fn new(gap: Duration) -> Judge {
        Judge { gap, quiet: None }
    }

    /// Takes the next sample; `Some` once the program is blocked.
    pub(crate) fn feed(&mut self, s: &Sample) -> Option<Blocked> {
        let Some(wait) = s.waiting() else {
            self.quiet = None;
            return None;
        };
        let now = s.activity();
        let gap = if s.exact() {
            self.gap
        } else {
            self.gap.max(COARSE_GAP)
        };
        match &self.quiet {
            Some((since, before)) if *before == now => {
                let since = *since;
                (s.at.saturating_sub(since) >= gap).then_some(Blocked { wait, since })
            }
            _ => {
                self.quiet = Some((s.at, now));
                None
            }
        }
    }
}

/// Whether a program acts on input it received, from whether it waited for input at the last
/// tick (`was_waiting`), whether it was acting on input then, and whether it waits now: woken
/// from a wait for input, it acts on it until it waits again. A program that never waited (a
/// busy loop, a program starting up) is not acting on input.
pub(crate) fn in_flight(was_waiting: bool, was_in_flight: bool, waiting: bool) -> bool {
    !waiting && (was_waiting || was_in_flight)
}

/// A program's own clock for one window (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    start: Duration,
    /// Run delay of each thread when first seen in this window.
    base: HashMap<i32, u64>,
    stolen_ns: u64,
}

impl Clock {
    pub(crate) fn new(start: Duration) -> Clock {
        Clock {
            start,
            base: HashMap::new(),
            stolen_ns: 0,
        }
    }

    pub(crate) fn feed(&mut self, s: &Sample) {
        for (_, t) in s.tasks() {
            let base = *self.base.entry(t.tid).or_insert(t.sched.delay_ns);
            self.stolen_ns = self.stolen_ns.max(t.sched.delay_ns.saturating_sub(base));
        }
    }

    /// Time the program was kept off the CPU during the window.
    pub(crate) fn stolen(&self) -> Duration {
        Duration::from_nanos(self.stolen_ns)
    }

    /// Program time elapsed at `now`.
    pub(crate) fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.start).saturating_sub(self.stolen())
    }
}

#[cfg(test)]
mod tests {
    use super::super::procfs::{Schedstat, WaitOn};
    use super::*;

    const RECV: InputWait = InputWait {
        call: "recvfrom",
        on: WaitOn::Socket(7),
    };

    fn task(tid: i32, state: char, wait: Option<InputWait>, runs: u64) -> TaskSample {
        TaskSample {
            tid,
            state,
            wait,
            sched: Schedstat {
                run_ns: runs * 1000,
                delay_ns: 0,
                runs,
            },
            ticks: 0,
        }
    }

    fn sample(ms: u64, tasks: Vec<TaskSample>) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            procs: vec![ProcSample { pid: 10, tasks }],
            output_bytes: 0,
        }
    }

    #[test]
    fn blocked_after_two_quiet_samples_a_gap_apart() {
        let mut j = Judge::new(Duration::from_millis(5));
        assert_eq!(j.feed(&sample(0, vec![task(10, 'R', None, 3)])), None);
        assert_eq!(j.feed(&sample(2, vec![task(10, 'S', Some(RECV), 4)])), None);
        // Too close to the first quiet sample.
        assert_eq!(j.feed(&sample(4, vec![task(10, 'S', Some(RECV), 4)])), None);
        let b = j
            .feed(&sample(7, vec![task(10, 'S', Some(RECV), 4)]))
            .unwrap();
        assert_eq!(b.wait, RECV);
        assert_eq!(b.since, Duration::from_millis(2));
    }

    #[test]
    fn a_run_between_samples_restarts_the_stretch() {
        let mut j = Judge::new(Duration::from_millis(5));
        j.feed(&sample(0, vec![task(10, 'S', Some(RECV), 4)]));
        // It woke up and went back to sleep: the run count moved.
        assert_eq!(
            j.feed(&sample(10, vec![task(10, 'S', Some(RECV), 5)])),
            None
        );
        let b = j
            .feed(&sample(15, vec![task(10, 'S', Some(RECV), 5)]))
            .unwrap();
        assert_eq!(b.since, Duration::from_millis(10));
    }

    #[test]
    fn output_or_a_new_process_restarts_the_stretch() {
        let mut j = Judge::new(Duration::from_millis(5));
        j.feed(&sample(0, vec![task(10, 'S', Some(RECV), 4)]));
        let mut s = sample(10, vec![task(10, 'S', Some(RECV), 4)]);
        s.output_bytes = 1;
        assert_eq!(j.feed(&s), None);
        s.at = Duration::from_millis(20);
        s.procs.push(ProcSample {
            pid: 11,
            tasks: vec![task(11, 'S', None, 1)],
        });
        assert_eq!(j.feed(&s), None);
        s.at = Duration::from_millis(30);
        assert!(j.feed(&s).is_some());
    }

    #[test]
    fn sleeping_elsewhere_or_running_is_not_blocked() {
        let mut j = Judge::new(Duration::from_millis(5));
        // time.sleep: asleep, but not waiting for input.
        for ms in [0, 10, 20] {
            assert_eq!(j.feed(&sample(ms, vec![task(10, 'S', None, 4)])), None);
        }
        // One thread waits, another runs.
        for ms in [30, 40, 50] {
            let s = sample(
                ms,
                vec![task(10, 'S', Some(RECV), 4), task(12, 'R', None, 9)],
            );
            assert_eq!(j.feed(&s), None);
        }
        // No live process at all.
        assert_eq!(j.feed(&sample(60, vec![])), None);
        assert_eq!(j.feed(&sample(70, vec![])), None);
    }

    #[test]
    fn other_threads_may_sleep_on_anything_while_one_waits_for_input() {
        let mut j = Judge::new(Duration::from_millis(5));
        let s = |ms| {
            sample(
                ms,
                vec![task(10, 'S', None, 4), task(11, 'S', Some(RECV), 2)],
            )
        };
        assert_eq!(j.feed(&s(0)), None);
        assert!(j.feed(&s(5)).is_some());
    }

    #[test]
    fn without_schedstat_the_samples_lie_further_apart() {
        let mut j = Judge::new(Duration::from_millis(5));
        let s = |ms| sample(ms, vec![task(10, 'S', Some(RECV), 0)]);
        assert_eq!(j.feed(&s(0)), None);
        assert_eq!(j.feed(&s(10)), None);
        assert!(j.feed(&s(30)).is_some());
    }

    #[test]
    fn acting_on_input_lasts_from_waking_until_waiting_again() {
        // Never waited: starting up or spinning.
        assert!(!in_flight(false, false, false));
        // Woken from a wait for input.
        assert!(in_flight(true, false, false));
        // Still at it (computing, sleeping before it answers).
        assert!(in_flight(false, true, false));
        // Waiting again: done.
        assert!(!in_flight(false, true, true));
        assert!(!in_flight(true, false, true));
    }

    #[test]
    fn program_time_stops_while_the_program_waits_for_a_cpu() {
        let mut c = Clock::new(Duration::from_millis(100));
        let mut t = task(10, 'R', None, 1);
        t.sched.delay_ns = 5_000_000;
        let mut s = sample(100, vec![t.clone()]);
        c.feed(&s);
        t.sched.delay_ns = 405_000_000;
        s = sample(1100, vec![t]);
        c.feed(&s);
        assert_eq!(c.stolen(), Duration::from_millis(400));
        assert_eq!(c.elapsed(s.at), Duration::from_millis(600));
        // A thread that ended does not give the time back.
        c.feed(&sample(1200, vec![]));
        assert_eq!(
            c.elapsed(Duration::from_millis(1200)),
            Duration::from_millis(700)
        );
    }
}
