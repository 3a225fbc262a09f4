//! Rubric files (`--rubric FILE`, docs/rubric.md): an instructor's points per check, who may
//! see each scenario and check (Gradescope's four `visibility` values), and which advisory
//! scenarios count.
//!
//! Contract, in three stages like scenarios:
//! - [`Rubric::load`] parses the JSON into a serde mirror that denies unknown fields, through the
//!   scenarios' own parser (`scenario::parse`): malformed JSON, an unknown field, a negative or
//!   fractional number of points are one [`Diagnostic`] with the file, line, column and JSON
//!   path, and "did you mean" for a misspelled field or value.
//! - [`Rubric::validate`] checks the names against the resolved plans of *every* scenario
//!   socklab knows (all labs: a rubric for the whole course is not wrong because this run has
//!   `--lab upper`): an unknown scenario id, an unknown check, a check named twice, points over
//!   [`MAX_POINTS`], a visible check in a scenario that is not, `counts` on a graded scenario.
//!   Every problem is reported, each at the line and column of the offending key or value, with
//!   "did you mean". A check is named as reports and the fault matrix name it, by its title,
//!   or by its source (`step 3`, `check 2`, 1-based as the report shows it).
//! - [`Rubric::apply`] rewrites one [`ScenarioResult`] before it is scored: each named check's
//!   points (and what it earned: its points if it passed, else 0), each check's visibility
//!   (its own, else its scenario's), the scenario's visibility and whether it counts. The run's
//!   `score` then recomputes the scenario's points and verdict from its checks.
//!
//! Nothing is earned by default whatever the rubric says: a check the student lost, or one
//! whose role was not submitted, earns 0 of the points the rubric gives it.
//!
//! A key given twice in one object is an error ([`Unique`]): serde_json keeps the last one
//! without a word, which would drop an instructor's line silently. The check is a small visitor
//! of our own rather than `serde_with` (a large crate for one function), and fails through
//! serde, so the error has its line and column like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;

use crate::check::Outcome;
use crate::error::AppError;
use crate::plan::Plan;
use crate::result::{ScenarioResult, Visibility};
use crate::scenario::{did_you_mean, Diagnostic, Source};

/// The most points a rubric may give one check: more is a typo (an extra zero), not a grade.
pub(crate) const MAX_POINTS: u32 = 1000;

/// A socklab rubric (docs/rubric.md): points per check, who may see each scenario and check,
/// and which advisory scenarios count. Everything it does not name stays as the scenarios say.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "socklab rubric")]
struct RubricFile {
    /// The JSON Schema of this file, for editors (schema/rubric.schema.json); ignored.
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    /// The rules of each scenario, by scenario id (`socklab list`), of any lab.
    #[serde(default)]
    scenarios: Unique<ScenarioRule>,
}

/// The JSON Schema of rubric files, pretty-printed, with a trailing newline
/// (schema/rubric.schema.json, kept current by a test; no command prints it yet).
#[cfg(test)]
fn schema_json() -> String {
    let schema = schemars::schema_for!(RubricFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A JSON object read as a map, where a key given twice is an error.
#[derive(Debug)]
struct Unique<T>(BTreeMap<String, T>);

impl<T: schemars::JsonSchema> schemars::JsonSchema for Unique<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        BTreeMap::<String, T>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, T>::json_schema(generator)
    }
}

impl<T> Default for Unique<T> {
    fn default() -> Self {
        Unique(BTreeMap::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Unique<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Keys<T> {
            type Value = Unique<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique<T>, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(A::Error::custom(format!(
                            "`{key}` is given twice in this object (only one would count)"
                        )));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(Unique(out))
            }
        }
        d.deserialize_map(Keys(std::marker::PhantomData))
    }
}

/// The rules of one scenario.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScenarioRule {
    /// Who may see the scenario (Gradescope's values); also its checks' visibility unless they
    /// set their own. Default: visible.
    #[serde(default)]
    visibility: Option<Visibility>,
    /// `true` makes an advisory scenario (beyond the handout) count in the totals; only on an
    /// advisory scenario.
    #[serde(default)]
    counts: Option<bool>,
    /// The rules of its checks, by check title or by place (`step 3`, `check 2`).
    #[serde(default)]
    checks: Unique<CheckRule>,
}

/// The rules of one check.
#[derive(Debug, Default, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CheckRule {
    /// What the check is worth, 0 to 1000 (default: the scenario's points); earned only if it
    /// passes.
    #[serde(default)]
    #[schemars(range(max = 1000))]
    points: Option<u32>,
    /// Who may see the check (Gradescope's values); default: its scenario's. Not `visible` in a
    /// scenario that is not.
    #[serde(default)]
    visibility: Option<Visibility>,
}

/// A loaded rubric, with its text kept so that validation can point into it.
#[derive(Debug)]
pub(crate) struct Rubric {
    file: RubricFile,
    source: Source,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RubricError {
    #[error("cannot read rubric {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found, each pointing into the file.
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

impl From<RubricError> for AppError {
    fn from(e: RubricError) -> AppError {
        AppError::Input(e.to_string().trim_end().to_string())
    }
}

/// One graded item of a plan, as its CheckResult will be named.
struct Item<'a> {
    title: &'a str,
    source: String,
}

/// The graded items of a plan in the order their results come: the graded steps, then the
/// checks (as `check::evaluate` numbers them).
fn items(plan: &Plan) -> Vec<Item<'_>> {
    let steps = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.points.is_some());
    let steps = steps.map(|(i, s)| Item {
        title: &s.label,
        source: format!("step {}", i + 1),
    });
    let checks = plan.checks.iter().enumerate().map(|(i, c)| Item {
        title: &c.title,
        source: format!("check {}", i + 1),
    });
    steps.chain(checks).collect()
}

/// The JSON path of a member, as `serde_path_to_error` and the locator spell it.
fn member(parent: &str, key: &str) -> String {
    format!("{parent}.{key}")
}

impl Rubric {
    /// Reads and parses a rubric file (see the module docs).
    pub(crate) fn load(path: &Path) -> Result<Rubric, RubricError> {
        let text = std::fs::read_to_string(path).map_err(|source| RubricError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Rubric::parse(path, text)
    }

    fn parse(path: &Path, text: String) -> Result<Rubric, RubricError> {
        let (file, source) = crate::scenario::parse::<RubricFile>(path, text)
            .map_err(|d| RubricError::Invalid(vec![*d]))?;
        Ok(Rubric { file, source })
    }

    fn at_key(&self, path: &str, message: String, help: Option<String>) -> Diagnostic {
        self.source
            .diagnostic_at(self.source.locator.key(path), path, message, help)
    }

    fn at_value(&self, path: &str, message: String, help: Option<String>) -> Diagnostic {
        self.source
            .diagnostic_at(self.source.locator.value(path), path, message, help)
    }

    /// Checks the rubric against `plans`, the resolved plans of every scenario known (not only
    /// those this run selects), and `advisory`, the ids of the advisory ones. Every problem is
    /// reported at once.
    pub(crate) fn validate(
        &self,
        plans: &[Plan],
        advisory: &BTreeSet<String>,
    ) -> Result<(), RubricError> {
        let mut problems = Vec::new();
        for (id, rule) in &self.file.scenarios.0 {
            let at = member("scenarios", id);
            let Some(plan) = plans.iter().find(|p| &p.id == id) else {
                let help = did_you_mean(id, plans.iter().map(|p| p.id.as_str()))
                    .or_else(|| Some("`socklab list` shows every scenario".into()));
                problems.push(self.at_key(&at, format!("unknown scenario `{id}`"), help));
                continue;
            };
            let graded = !advisory.contains(id);
            match rule.counts {
                Some(true) if graded => problems.push(self.at_value(
                    &member(&at, "counts"),
                    format!("`{id}` is graded already: `counts` makes an advisory scenario count"),
                    None,
                )),
                Some(false) => problems.push(self.at_value(
                    &member(&at, "counts"),
                    "`counts` can only be `true` (an advisory scenario that counts)".into(),
                    Some(if graded {
                        "to make a graded scenario weigh nothing, give its checks 0 points".into()
                    } else {
                        "an advisory scenario weighs 0 points without it".into()
                    }),
                )),
                _ => {}
            }
            self.validate_checks(plan, rule, &at, &mut problems);
        }
        // In the file's order, as an editor lists them.
        problems.sort_by_key(|d| (d.line, d.column));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RubricError::Invalid(problems))
        }
    }

    fn validate_checks(
        &self,
        plan: &Plan,
        rule: &ScenarioRule,
        at: &str,
        problems: &mut Vec<Diagnostic>,
    ) {
        let items = items(plan);
        // Which key named each item first: a second name for the same check is an error.
        let mut named: BTreeMap<usize, &str> = BTreeMap::new();
        for (key, check) in &rule.checks.0 {
            let path = member(&member(at, "checks"), key);
            let by_title: Vec<usize> = (0..items.len())
                .filter(|&i| items[i].title == key.as_str())
                .collect();
            let by_source = items.iter().position(|it| it.source == *key);
            let found = match (by_title.as_slice(), by_source) {
                ([i], None) => Some(*i),
                ([], Some(i)) => Some(i),
                ([i], Some(j)) if *i == j => Some(*i),
                ([], None) => {
                    let candidates = items
                        .iter()
                        .map(|it| it.title)
                        .chain(items.iter().map(|it| it.source.as_str()));
                    let help = did_you_mean(key, candidates).or_else(|| {
                        Some(format!(
                            "its checks are: {}",
                            items
                                .iter()
                                .map(|it| format!("`{}` ({})", it.title, it.source))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    });
                    problems.push(self.at_key(
                        &path,
                        format!("scenario `{}` has no check `{key}`", plan.id),
                        help,
                    ));
                    None
                }
                _ => {
                    problems.push(self.at_key(
                        &path,
                        format!("`{key}` names more than one check of `{}`", plan.id),
                        Some("name the check by its source (`step N` or `check N`)".into()),
                    ));
                    None
                }
            };
            if let Some(i) = found {
                if let Some(first) = named.insert(i, key) {
                    problems.push(self.at_key(
                        &path,
                        format!(
                            "check `{}` ({}) of `{}` is named twice, as `{first}` and as `{key}`",
                            items[i].title, items[i].source, plan.id
                        ),
                        None,
                    ));
                }
            }
            if let Some(points) = check.points.filter(|p| *p > MAX_POINTS) {
                problems.push(self.at_value(
                    &member(&path, "points"),
                    format!("{points} points is more than a check may have ({MAX_POINTS})"),
                    None,
                ));
            }
            let scenario = rule.visibility.unwrap_or_default();
            if check.visibility == Some(Visibility::Visible) && !scenario.is_visible() {
                problems.push(
                    self.at_value(
                        &member(&path, "visibility"),
                        format!(
                            "a check cannot be visible in a scenario that is not (`{}` is {})",
                            plan.id,
                            scenario.as_str()
                        ),
                        Some(
                            "make the scenario visible and set the visibility of its other checks"
                                .into(),
                        ),
                    ),
                );
            }
        }
    }

    /// Whether the rubric makes the advisory scenario `id` count.
    pub(crate) fn counts(&self, id: &str) -> bool {
        self.file
            .scenarios
            .0
            .get(id)
            .is_some_and(|r| r.counts == Some(true))
    }

    /// Sets what the rubric says on `result`, before it is scored (see the module docs).
    ///
    /// A cross-test run (`ID.socklab-client`) the rubric does not name follows the rule of its
    /// scenario `ID`: a check hidden there is hidden in its cross-test runs too (they judge the
    /// same behaviour), and takes the points set there, except a check only socklab's program
    /// is judged by, which stays at 0 whatever the rubric says.
    pub(crate) fn apply(&self, result: &mut ScenarioResult) {
        let rules = &self.file.scenarios.0;
        let (rule, inherited) = match rules.get(&result.id) {
            Some(rule) => (rule, false),
            None => match result.cross.as_ref().and_then(|c| rules.get(&c.base)) {
                Some(rule) => (rule, true),
                None => return,
            },
        };
        if let Some(v) = rule.visibility {
            result.visibility = v;
        }
        if rule.counts == Some(true) {
            result.counted = true;
        }
        for c in &mut result.checks {
            let own = rule
                .checks
                .0
                .iter()
                .find(|(key, _)| **key == c.title || **key == c.source)
                .map(|(_, r)| *r)
                .unwrap_or_default();
            c.visibility = own.visibility.unwrap_or(result.visibility);
            if let Some(points) = own.points.filter(|_| !(inherited && c.points == 0)) {
                c.points = points;
                c.awarded = if c.outcome == Outcome::Passed && c.passed {
                    points
                } else {
                    0
                };
            }
        }
    }
}

/// The rubric of `--rubric FILE`, loaded and validated against every scenario socklab knows
/// here: the bundled ones, those of `paths` (scenario files given on the command line) and of
/// `extra` (`--scenarios DIR`), whatever the run's `--lab` or `paths` select (one rubric serves
/// a course); `None` without a rubric. Problems are input errors (exit 2).
pub(crate) fn for_run(
    rubric: Option<&Path>,
    paths: &[PathBuf],
    extra: &[PathBuf],
) -> Result<Option<Rubric>, AppError> {
    let Some(path) = rubric else {
        return Ok(None);
    };
    let rubric = Rubric::load(path)?;
    let mut all = crate::run::select(paths, extra, None)?.loaded;
    if !paths.is_empty() {
        let bundled = crate::run::select(&[], &[], None)?.loaded;
        let given: BTreeSet<String> = all.iter().map(|l| l.scenario.id.clone()).collect();
        all.extend(
            bundled
                .into_iter()
                .filter(|l| !given.contains(&l.scenario.id)),
        );
    }
    let advisory = all
        .iter()
        .filter(|l| l.scenario.advisory)
        .map(|l| l.scenario.id.clone())
        .collect();
    // Titles do not depend on the bindings or the ports: the reference programs and any ports
    // resolve every scenario to the names its results will carry. A scenario that does not
    // resolve is the run's to report, if it runs it.
    let plans: Vec<Plan> = all
        .iter()
        .filter_map(|l| {
            let ports = crate::plan::choose_ports(&crate::plan::port_names(l), 1);
            crate::plan::resolve(l, &Default::default(), &ports, "socklab").ok()
        })
        .collect();
    rubric.validate(&plans, &advisory)?;
    Ok(Some(rubric))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{check, scenario};

    fn plan(id: &str, text: &str) -> Plan {
        let text = text.replace("ID", id);
        crate::plan::resolve_text(text, 40000).unwrap()
    }

    /// Two scenarios: a graded one with a graded step and two checks, and an advisory one.
    fn plans() -> (Vec<Plan>, BTreeSet<String>) {
        let upper = r#"{
  "id": "ID", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
  "programs": [
    {"name": "server", "role": "tcp-upper-server"},
    {"name": "client", "role": "tcp-upper-client"}
  ],
  "steps": [
    {"start": {"program": "server"}},
    {"wait_ready": {"program": "server", "title": "the server listens"}}
  ],
  "checks": [
    {"tcp_handshake": {"client": "client", "server": "server", "title": "a \"quoted\" check"}},
    {"running": {"program": "server", "points": 2, "title": "the server keeps running"}}
  ]
}"#;
        (
            vec![plan("upper-round-trip", upper), plan("web-extra", upper)],
            ["web-extra".to_string()].into(),
        )
    }

    fn load(text: &str) -> Result<Rubric, RubricError> {
        Rubric::parse(Path::new("r.json"), text.to_string())
    }

    fn problems(text: &str) -> Vec<Diagnostic> {
        let (plans, advisory) = plans();
        match load(text).and_then(|r| r.validate(&plans, &advisory)) {
            Err(RubricError::Invalid(d)) => d,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_rubric_names_checks_by_title_or_source() {
        let text = r#"{
  "$schema": "x",
  "scenarios": {
    "upper-round-trip": {
      "visibility": "after_due_date",
      "checks": {
        "the server listens": { "points": 5 },
        "a \"quoted\" check": { "visibility": "hidden" },
        "check 2": { "points": 0, "visibility": "after_published" }
      }
    },
    "web-extra": { "counts": true }
  }
}"#;
        let (plans, advisory) = plans();
        let rubric = load(text).unwrap();
        rubric.validate(&plans, &advisory).unwrap();
        assert!(rubric.counts("web-extra") && !rubric.counts("upper-round-trip"));
    }

    #[test]
    fn the_example_of_the_docs_is_valid_for_the_bundled_scenarios() {
        let docs = include_str!("../docs/rubric.md");
        let example = docs
            .split("```json\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rubric.json");
        std::fs::write(&path, example).unwrap();
        let rubric = for_run(Some(&path), &[], &[]).unwrap().unwrap();
        assert!(rubric.counts("web-path-traversal"));
        assert!(for_run(None, &[], &[]).unwrap().is_none());
    }

    /// The committed schema/rubric.schema.json is what the types say; with
    /// `SOCKLAB_WRITE_SCHEMA=1` the test writes it instead.
    #[test]
    fn the_committed_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/rubric.schema.json");
        if std::env::var_os("SOCKLAB_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, schema_json()).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema_json(),
            "schema/rubric.schema.json is stale: run `SOCKLAB_WRITE_SCHEMA=1 cargo test --bin \
             socklab rubric::tests::the_committed_schema_is_current`"
        );
        let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
        let visibility = schema.to_string();
        for v in ["visible", "hidden", "after_due_date", "after_published"] {
            assert!(visibility.contains(&format!("\"{v}\"")), "{v}");
        }
    }

    #[test]
    fn malformed_json_and_unknown_fields_point_at_the_file() {
        let e = load("{\n  \"scenarios\": {\n    \"x\": { \"visibilty\": \"hidden\" }\n  }\n}")
            .unwrap_err();
        let RubricError::Invalid(d) = &e else {
            panic!("{e:?}")
        };
        // Where serde_json stops: the end of the unknown key, as for scenarios.
        assert_eq!((d[0].line, d[0].column), (3, 22), "{e}");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `visibility`?"));
        assert!(e.to_string().contains("--> r.json:3:22"), "{e}");
        let e = load("{\"scenarios\": {\"x\": {\"visibility\": \"hiden\"}}}").unwrap_err();
        assert!(e.to_string().contains("did you mean `hidden`?"), "{e}");
        let e =
            load("{\"scenarios\": {\"x\": {\"checks\": {\"c\": {\"points\": -1}}}}}").unwrap_err();
        assert!(e.to_string().contains("invalid value: integer `-1`"), "{e}");
        let e =
            load("{\"scenarios\": {\"x\": {\"checks\": {\"c\": {\"points\": 2.5}}}}}").unwrap_err();
        assert!(e.to_string().contains("floating point `2.5`"), "{e}");
        // A key given twice would silently drop the first one.
        let e =
            load("{\"scenarios\": {\n  \"x\": {},\n  \"x\": {\"counts\": true}\n}}").unwrap_err();
        let RubricError::Invalid(d) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(d[0].line, 3, "{e}");
        assert!(d[0].message.contains("`x` is given twice"), "{e}");
        let e = load("{\"scenarios\": {\"x\": {\"checks\": {\"c\": {}, \"c\": {}}}}}").unwrap_err();
        assert!(e.to_string().contains("`c` is given twice"), "{e}");
        let e = load("{\"scenarios\": ").unwrap_err();
        assert!(e.to_string().contains("r.json:1:"), "{e}");
    }

    #[test]
    fn unknown_names_are_errors_at_their_key_with_did_you_mean() {
        let d = problems(
            r#"{
  "scenarios": {
    "upper-round-trp": {},
    "upper-round-trip": {
      "checks": {
        "the server listen": { "points": 1 },
        "check 9": { "points": 1 }
      }
    }
  }
}"#,
        );
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!((d[0].line, d[0].column), (3, 5));
        assert_eq!(d[0].message, "unknown scenario `upper-round-trp`");
        assert_eq!(
            d[0].help.as_deref(),
            Some("did you mean `upper-round-trip`?")
        );
        assert_eq!((d[1].line, d[1].column), (6, 9));
        assert_eq!(
            d[1].help.as_deref(),
            Some("did you mean `the server listens`?")
        );
        assert!(d[1].to_string().contains("--> r.json:6:9"), "{}", d[1]);
        assert_eq!((d[2].line, d[2].column), (7, 9));
        assert!(d[2].message.contains("has no check `check 9`"), "{}", d[2]);
    }

    #[test]
    fn absurd_points_twice_named_checks_and_visibility_conflicts_are_errors() {
        let d = problems(
            r#"{
  "scenarios": {
    "upper-round-trip": {
      "visibility": "hidden",
      "counts": true,
      "checks": {
        "step 2": { "points": 1001 },
        "the server listens": { "visibility": "visible" }
      }
    },
    "web-extra": { "counts": false }
  }
}"#,
        );
        let messages: Vec<String> = d.iter().map(|d| d.message.clone()).collect();
        assert_eq!(d.len(), 5, "{messages:?}");
        assert!(messages[0].contains("is graded already"), "{messages:?}");
        assert_eq!((d[0].line, d[0].column), (5, 17));
        assert!(messages[1].contains("1001 points"), "{messages:?}");
        assert_eq!((d[1].line, d[1].column), (7, 31));
        assert!(messages[2].contains("named twice"), "{messages:?}");
        assert_eq!((d[2].line, d[2].column), (8, 9));
        assert!(messages[3].contains("cannot be visible"), "{messages:?}");
        assert!(messages[4].contains("can only be `true`"), "{messages:?}");
    }

    #[test]
    fn apply_sets_points_awarded_visibility_and_counts() {
        let rubric = load(
            r#"{"scenarios": {
  "upper-round-trip": {
    "visibility": "after_due_date",
    "checks": {
      "replies": { "points": 5 },
      "uppercases": { "points": 7, "visibility": "hidden" },
      "check 1": { "points": 9 }
    }
  },
  "upper-extra": { "counts": true }
}}"#,
        )
        .unwrap();
        let mut checks = vec![
            check("replies", Outcome::Passed, 2),
            check("uppercases", Outcome::Failed, 3),
            // Named by its source, `check 1`.
            check("client sends", Outcome::NotSubmitted, 1),
            check("untouched", Outcome::Passed, 4),
        ];
        for (c, source) in checks
            .iter_mut()
            .zip(["step 1", "step 2", "check 1", "check 2"])
        {
            c.source = source.into();
        }
        let mut sc = scenario("upper-round-trip", false, checks);
        rubric.apply(&mut sc);
        crate::run::pool::score(&mut sc);
        let got: Vec<(u32, u32, Visibility)> = sc
            .checks
            .iter()
            .map(|c| (c.points, c.awarded, c.visibility))
            .collect();
        assert_eq!(
            got,
            [
                (5, 5, Visibility::AfterDueDate),
                (7, 0, Visibility::Hidden),
                // Not submitted: nothing earned by default, whatever the rubric gives.
                (9, 0, Visibility::AfterDueDate),
                (4, 4, Visibility::AfterDueDate),
            ]
        );
        assert_eq!(sc.visibility, Visibility::AfterDueDate);
        assert_eq!((sc.points, sc.max_points), (9, 25));
        let mut extra = scenario(
            "upper-extra",
            true,
            vec![check("survives", Outcome::Passed, 3)],
        );
        assert!(!extra.weighs());
        rubric.apply(&mut extra);
        assert!(extra.weighs() && extra.advisory);
        let summary = crate::result::Summary::of(&[sc, extra]);
        assert_eq!((summary.points, summary.max_points), (12, 28));
        assert_eq!(summary.advisory.scenarios, 0);
    }
}
