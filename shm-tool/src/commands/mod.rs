//! The bodies of the segment commands, one file each: `list`, `inspect`,
//! `rm` and `clean` (`dump` and `header` have their own modules).

pub mod clean;
pub mod inspect;
pub mod list;
pub mod rm;
