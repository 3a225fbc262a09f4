//! Which students a shard grades: `--shard M/N`, or the index and count the job engine gives
//! every copy of a job (GitLab's `parallel:`, a Kubernetes Indexed Job, a Slurm array).
//!
//! A student belongs to shard `hash(id) mod N` (1-based: `+ 1`), where `hash` is 64-bit
//! FNV-1a of the id's bytes: stable across machines, runs and socklab versions (std's
//! `DefaultHasher` promises none of that), so every copy of a job agrees on the split without
//! talking to the others, and a student stays in their shard when others join the class.

use crate::error::AppError;

/// One shard of the class: `index` of `total`, 1-based, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub index: u32,
    pub total: u32,
    /// `--shard`, or the environment variables it was read from.
    pub source: String,
}

impl Shard {
    /// Whether the student `id` is graded by this shard.
    pub(crate) fn owns(&self, id: &str) -> bool {
        fnv1a(id.as_bytes()) % u64::from(self.total) == u64::from(self.index - 1)
    }
}

/// 64-bit FNV-1a.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The shard to grade: `--shard M/N` if given; else from the environment, in this order:
/// `CI_NODE_INDEX`/`CI_NODE_TOTAL` (GitLab `parallel:`, 1-based), `JOB_COMPLETION_INDEX`
/// (Kubernetes Indexed Job, 0-based) with `--shard-total N`, `SLURM_ARRAY_TASK_ID` (counted
/// from `SLURM_ARRAY_TASK_MIN`) with `SLURM_ARRAY_TASK_COUNT`. None: the whole class.
pub(crate) fn resolve(
    flag: Option<&str>,
    shard_total: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>, AppError> {
    if let Some(text) = flag {
        let (m, n) = parse(text).ok_or_else(|| {
            AppError::Input(format!(
                "--shard {text}: expected M/N with 1 <= M <= N, e.g. --shard 2/3"
            ))
        })?;
        return Ok(Some(Shard {
            index: m,
            total: n,
            source: "--shard".into(),
        }));
    }
    let number = |name: &str| -> Result<Option<u32>, AppError> {
        match env(name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                AppError::Input(format!("{name}={v:?} is not a number (read for the shard)"))
            }),
        }
    };
    let checked = |index: u32, total: u32, source: String| {
        if total == 0 || index == 0 || index > total {
            Err(AppError::Input(format!(
                "{source} gives shard {index} of {total}: expected 1 <= index <= total"
            )))
        } else {
            Ok(Some(Shard {
                index,
                total,
                source,
            }))
        }
    };
    if let (Some(i), Some(n)) = (number("CI_NODE_INDEX")?, number("CI_NODE_TOTAL")?) {
        return checked(i, n, "CI_NODE_INDEX/CI_NODE_TOTAL".into());
    }
    if let Some(i) = number("JOB_COMPLETION_INDEX")? {
        let Some(n) = shard_total else {
            return Err(AppError::Input(format!(
                "JOB_COMPLETION_INDEX={i} is set (a Kubernetes Indexed Job) but not \
                 --shard-total: give the Job's `completions`, e.g. --shard-total 3"
            )));
        };
        return checked(
            i.saturating_add(1),
            n,
            "JOB_COMPLETION_INDEX + --shard-total".into(),
        );
    }
    if let (Some(id), Some(n)) = (
        number("SLURM_ARRAY_TASK_ID")?,
        number("SLURM_ARRAY_TASK_COUNT")?,
    ) {
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        return checked(
            id.saturating_sub(min).saturating_add(1),
            n,
            "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT".into(),
        );
    }
    if shard_total.is_some() {
        return Err(AppError::Input(
            "--shard-total is for a Kubernetes Indexed Job, with JOB_COMPLETION_INDEX set; \
             elsewhere use --shard M/N"
                .into(),
        ));
    }
    Ok(None)
}

fn parse(text: &str) -> Option<(u32, u32)> {
    let (m, n) = text.split_once('/')?;
    let (m, n): (u32, u32) = (m.trim().parse().ok()?, n.trim().parse().ok()?);
    (m >= 1 && m <= n).then_some((m, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn shard(flag: Option<&str>, total: Option<u32>, vars: &[(&str, &str)]) -> (u32, u32) {
        let s = resolve(flag, total, &env(vars)).unwrap().unwrap();
        (s.index, s.total)
    }

    #[test]
    fn every_engine_numbers_its_copies_its_own_way_and_all_map_to_one_based_shards() {
        assert_eq!(shard(Some("2/3"), None, &[]), (2, 3));
        assert_eq!(
            shard(
                None,
                None,
                &[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "3")]
            ),
            (3, 3)
        );
        assert_eq!(
            shard(None, Some(4), &[("JOB_COMPLETION_INDEX", "0")]),
            (1, 4)
        );
        assert_eq!(
            shard(
                None,
                None,
                &[
                    ("SLURM_ARRAY_TASK_ID", "7"),
                    ("SLURM_ARRAY_TASK_MIN", "5"),
                    ("SLURM_ARRAY_TASK_COUNT", "3")
                ]
            ),
            (3, 3)
        );
        // The flag wins over the environment.
        assert_eq!(
            shard(
                Some("1/2"),
                None,
                &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "2")]
            ),
            (1, 2)
        );
        assert!(resolve(None, None, &env(&[])).unwrap().is_none());
    }

    #[test]
    fn nonsense_is_an_input_error() {
        for flag in ["0/3", "4/3", "x/3", "3", "1/0"] {
            assert!(resolve(Some(flag), None, &env(&[])).is_err(), "{flag}");
        }
        assert!(resolve(None, None, &env(&[("JOB_COMPLETION_INDEX", "1")])).is_err());
        assert!(resolve(None, Some(3), &env(&[])).is_err());
        assert!(resolve(
            None,
            None,
            &env(&[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")])
        )
        .is_err());
    }

    #[test]
    fn shards_split_a_class_into_disjoint_parts_that_cover_it_and_the_hash_is_stable() {
        let ids: Vec<String> = (0..200).map(|i| format!("student{i:03}")).collect();
        let shards: Vec<Shard> = (1..=3)
            .map(|index| Shard {
                index,
                total: 3,
                source: String::new(),
            })
            .collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.owns(id)).count(), 1, "{id}");
        }
        // No shard is starved.
        for s in &shards {
            assert!(ids.iter().filter(|id| s.owns(id)).count() > 40);
        }
        // FNV-1a's published test vectors: the split never changes between versions.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
