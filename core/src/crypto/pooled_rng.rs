//! [`PooledOsRng`]: random bytes for IVs, the operating system's
//! randomness stretched in bulk.

use std::cell::RefCell;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, OsRng, RngCore, SeedableRng};
use zeroize::Zeroize;

/// Bytes made at a time, per thread, from one key from the operating
/// system: one `getrandom` call serves 341 IVs.
const POOL_BYTES: usize = 4096;

/// What a thread has fetched and not yet handed out.
struct Pool {
    /// Wiped when the thread ends.
    bytes: Vec<u8>,
    /// Bytes from here on are unused; those before it are zero.
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: Vec::new(), next: 0 })
    };
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl Pool {
    /// A fresh pool: the ChaCha20 keystream of a fresh 256-bit seed from
    /// the OS (each seed used for one pool, then dropped).
    fn refill(&mut self) -> Result<(), rand_core::Error> {
        // Empty until it is full again.
        self.bytes.resize(POOL_BYTES, 0);
        self.next = self.bytes.len();
        self.bytes.fill(0);
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        OsRng.try_fill_bytes(seed.as_mut())?;
        ChaCha20Rng::from_seed(*seed).fill_bytes(&mut self.bytes);
        self.next = 0;
        Ok(())
    }

    /// Fills `dest` from the pool, refilling the pool from the OS when it
    /// runs dry. Every byte handed out is wiped from the pool, so none is
    /// handed out twice.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        let mut dest = dest;
        while !dest.is_empty() {
            if self.next >= self.bytes.len() {
                self.refill()?;
            }
            let n = dest.len().min(self.bytes.len().saturating_sub(self.next));
            let end = self.next.saturating_add(n);
            let (now, rest) = std::mem::take(&mut dest).split_at_mut(n);
            if let Some(taken) = self.bytes.get_mut(self.next..end) {
                now.copy_from_slice(taken);
                taken.zeroize();
            }
            self.next = end;
            dest = rest;
        }
        Ok(())
    }
}

/// Random bytes for IVs at a few nanoseconds each instead of a `getrandom`
/// system call (~0.2 µs) each: the operating system's randomness
/// ([`OsRng`]) stretched in bulk. Each thread makes 4 KiB at a time, the
/// ChaCha20 keystream of a fresh 256-bit seed from the OS (`rand_chacha`;
/// the construction of rand's `ThreadRng` and of the kernel's own
/// generator, reseeded here for every 4 KiB), and hands the bytes out in
/// order, wiping each one as it goes, so no byte is handed out twice.
/// One system call serves 341 IVs. [`Iv::random`](super::Iv::random) uses
/// it.
///
/// Up to 4 KiB of future output sits in the thread's memory. A process
/// that calls `fork()` without `exec` duplicates that memory, so parent and
/// child would hand out the same bytes next: a program that forks and goes
/// on encrypting in both processes should use [`OsRng`] instead (every
/// request a system call).
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::{encrypt_fields, is_encrypted, MasterKey, PooledOsRng};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let mut task = json!({"title": "Buy milk"}).as_object().cloned().unwrap_or_default();
/// encrypt_fields(&key, &mut task, &["title"], &mut PooledOsRng)?;
/// assert!(is_encrypted(&task["title"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PooledOsRng;

impl RngCore for PooledOsRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// Panics only where [`OsRng`] panics: when the operating system has no
    /// randomness to give. Use [`RngCore::try_fill_bytes`] to get the error.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(e) = self.try_fill_bytes(dest) {
            panic!("PooledOsRng: no randomness from the operating system: {e}");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        // Only a thread being torn down has no pool (or, were this ever
        // called re-entrantly, a borrowed one): ask the OS directly.
        let pooled =
            POOL.try_with(|pool| pool.try_borrow_mut().map(|mut pool| pool.fill(dest)).ok());
        match pooled {
            Ok(Some(result)) => result,
            _ => OsRng.try_fill_bytes(dest),
        }
    }
}

impl CryptoRng for PooledOsRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_draw_repeats_within_and_across_refills() {
        // 3 pools' worth of 12-byte draws, and some odd sizes across the
        // refill boundaries.
        let mut seen = HashSet::new();
        for _ in 0..(3 * POOL_BYTES / 12 + 7) {
            let mut iv = [0u8; 12];
            PooledOsRng.try_fill_bytes(&mut iv).unwrap();
            assert!(seen.insert(iv), "a 96-bit draw repeated");
        }
        let mut big = vec![0u8; POOL_BYTES + 100];
        PooledOsRng.try_fill_bytes(&mut big).unwrap();
        let mut other = vec![0u8; POOL_BYTES + 100];
        PooledOsRng.try_fill_bytes(&mut other).unwrap();
        assert_ne!(big, other);
        assert!(big.chunks(16).all(|c| c.iter().any(|&b| b != 0)));
    }

    #[test]
    fn handed_out_bytes_are_wiped_from_the_pool() {
        let mut iv = [0u8; 12];
        PooledOsRng.try_fill_bytes(&mut iv).unwrap();
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert_eq!(pool.bytes.len(), POOL_BYTES);
            assert!(pool.next >= 12);
            assert!(pool.bytes[..pool.next].iter().all(|&b| b == 0));
            // What is left is random, not zero (the chance that a 16-byte
            // window of it is all zero is 2^-128).
            let rest = &pool.bytes[pool.next..];
            assert!(rest.len() < 16 || rest[..16].iter().any(|&b| b != 0));
        });
    }

    #[test]
    fn output_looks_random() {
        // 16 pools' worth: half the bits set, give or take 1% (the standard
        // deviation is 0.07%), and every byte value about as often.
        let mut bytes = vec![0u8; 16 * POOL_BYTES];
        PooledOsRng.try_fill_bytes(&mut bytes).unwrap();
        let ones: u32 = bytes.iter().map(|b| b.count_ones()).sum();
        let share = f64::from(ones) / (bytes.len() * 8) as f64;
        assert!((0.49..0.51).contains(&share), "{share}");
        let mut counts = [0u32; 256];
        for &b in &bytes {
            counts[usize::from(b)] += 1;
        }
        // 256 expected per value, standard deviation 16.
        assert!(
            counts.iter().all(|&c| (150..370).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn threads_draw_different_bytes() {
        let draw = || {
            let mut iv = [0u8; 12];
            PooledOsRng.try_fill_bytes(&mut iv).unwrap();
            iv
        };
        let here = draw();
        let there = std::thread::spawn(draw).join().unwrap();
        assert_ne!(here, there);
    }
}
