//! Grading a class: `socklab grade DIR` (every subdirectory a student) and `socklab merge`
//! (the shards of a class graded on several machines, combined).

pub(crate) mod summary;
