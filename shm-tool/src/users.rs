//! User names by uid, from the system's user database (`getpwuid_r`: files,
//! LDAP, systemd-userdb... whatever `nsswitch.conf` says).

use std::collections::HashMap;
use std::ffi::CStr;
use std::mem::MaybeUninit;

/// A cache of the names looked up.
#[derive(Default)]
pub struct Users(HashMap<u32, Option<String>>);

impl Users {
    /// The name of `uid`, `None` when the user database has no entry.
    pub fn name(&mut self, uid: u32) -> Option<&str> {
        self.0.entry(uid).or_insert_with(|| lookup(uid)).as_deref()
    }

    /// The name of `uid`, or the uid itself when it has none.
    pub fn label(&mut self, uid: u32) -> String {
        self.name(uid)
            .map_or_else(|| uid.to_string(), str::to_owned)
    }
}

fn lookup(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        let mut entry = MaybeUninit::<libc::passwd>::uninit();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `entry` and `buf` are writable for their sizes and outlive
        // the call; `getpwuid_r` writes the entry into `entry`, its strings
        // into `buf`, and sets `result` to `entry` on success or null.
        let rc = unsafe {
            libc::getpwuid_r(
                uid as libc::uid_t,
                entry.as_mut_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        // SAFETY: the call succeeded, so `entry` is initialized and its
        // `pw_name` points to a NUL-terminated string in `buf`, alive here.
        let name = unsafe { CStr::from_ptr(entry.assume_init_ref().pw_name) };
        return Some(String::from_utf8_lossy(name.to_bytes()).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// uid 0 is `root` on every Unix; the current user's name is the one
    /// the system reports for it.
    #[test]
    fn names_come_from_the_user_database() {
        let mut users = Users::default();
        assert_eq!(users.name(0), Some("root"));
        // SAFETY: `getuid` cannot fail.
        let me = unsafe { libc::getuid() };
        assert!(users.name(me).is_some_and(|n| !n.is_empty()));
    }

    /// A uid without an entry is shown as the number.
    #[test]
    fn an_unknown_uid_is_labelled_by_its_number() {
        let mut users = Users::default();
        let uid = 4_000_000_123;
        assert_eq!(users.name(uid), None);
        assert_eq!(users.label(uid), "4000000123");
    }
}
