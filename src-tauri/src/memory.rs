//! Giving memory back to the system after a burst of work. Opening a long session reads, converts and
//! serializes its whole history once (tens of MiB for 50,000 events), then frees it; glibc's allocator keeps
//! the freed pages in its arenas, where they count against the app for as long as it runs, until asked to
//! return them.

/// Returns the allocator's free pages to the system: glibc's `malloc_trim`, which releases free memory at the
/// top of each arena and the whole free pages inside them. Nothing to do with other allocators. Blocking for a
/// few milliseconds: call it off the async runtime.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and has no preconditions; it works on the allocator's own state.
    unsafe {
        libc::malloc_trim(0);
    }
}
