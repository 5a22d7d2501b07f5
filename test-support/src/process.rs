//! What a benchmark reads of another process, from Linux's `/proc` (0 where it cannot).

/// The process's resident memory, in KiB (`VmRSS` of `/proc/PID/status`).
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The process's user and system CPU time so far, in USER_HZ ticks (100 a second on Linux;
/// `utime` and `stime` of `/proc/PID/stat`).
pub fn cpu_ticks(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
    // utime and stime are the 14th and 15th fields; the 3rd is the first after the name.
    (field(11), field(12))
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_memory_and_spends_time() {
        let pid = std::process::id();
        assert!(super::resident_kib(pid) > 0);
        assert_eq!(super::resident_kib(u32::MAX), 0, "no such process");
        // Work until a tick of CPU time shows (10 ms), for at most 5 s.
        let started = std::time::Instant::now();
        let mut n = 0u64;
        loop {
            let (user, system) = super::cpu_ticks(pid);
            if user + system > 0 {
                break;
            }
            assert!(
                started.elapsed().as_secs() < 5,
                "no CPU time read for this process"
            );
            for _ in 0..1_000_000 {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
    }
}
