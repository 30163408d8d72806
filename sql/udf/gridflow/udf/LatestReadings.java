/*
 * The newest few readings of one equipment, as EQUIPMENT_LATEST keeps them: plain Java, no Flink or
 * Fluss, so it is checked on its own (test/java/gridflow/udf/LatestReadingsCheck.java).
 *
 * A reading is four longs: measured_at (epoch microseconds), reading_id, load_mw (unscaled, scale 3),
 * temperature_c (unscaled, scale 2). "Latest" is the greatest (measured_at, reading_id).
 *
 * Invariant: every alive reading that is not in the list is older than every reading in it, so while
 * the list is not empty its first entry is the latest reading. `count` is how many readings are alive
 * (from the changelog); `count - size` of them are untracked.
 *   add:    a reading newer than the list's oldest entry goes in (the oldest falls out beyond KEEP);
 *           an older one only when nothing is untracked (else it might be older than an untracked one);
 *           with an empty list but untracked readings, the list comes from the lookup.
 *   remove: a tracked reading leaves the list; when that empties it while readings remain, the list
 *           comes from the lookup.
 * The lookup must return the readings of the equipment as the table holds them at that moment or
 * later (never earlier) than the change being applied: changes that the lookup already saw and that
 * arrive afterwards are absorbed (a reading already listed is not added twice; a removed one is
 * gone), so the list converges to the newest readings of the final state.
 */
package gridflow.udf;

import java.util.List;

public final class LatestReadings {
    /** How many of the newest readings are kept per equipment. */
    public static final int KEEP = 4;
    /** Longs per reading. */
    public static final int WIDTH = 4;

    private LatestReadings() {}

    /** All readings of one equipment that exist now (any order), WIDTH longs each. */
    public interface Lookup {
        List<long[]> readingsOf(String equipmentId);
    }

    /** The part of the accumulator this class manages. */
    public static final class State {
        public long count;
        /** Newest first, WIDTH longs per reading. */
        public long[] list;

        public State(long count, long[] list) {
            this.count = count;
            this.list = list == null ? new long[0] : list;
        }

        public int size() {
            return list.length / WIDTH;
        }
    }

    /** Apply one added reading. Returns true when the lookup was asked. */
    public static boolean add(State s, long[] reading, String equipmentId, Lookup lookup) {
        int size = s.size();
        long untracked = s.count - size;
        s.count++;
        if (indexOf(s.list, reading[1]) >= 0) return false; // a lookup saw it before its change reached us
        if (size == 0 && untracked > 0) {
            s.list = top(lookup.readingsOf(equipmentId));
            return true;
        }
        if (untracked <= 0 || newer(reading, s.list, size - 1)) s.list = insert(s.list, reading);
        return false;
    }

    /** Apply one removed reading (a delete, or the old version of an update). Returns true when the lookup was asked. */
    public static boolean remove(State s, long readingId, String equipmentId, Lookup lookup) {
        s.count--;
        if (s.count <= 0) {
            // Nothing alive: whatever a later lookup listed comes back with its own change.
            s.count = 0;
            s.list = new long[0];
            return false;
        }
        int at = indexOf(s.list, readingId);
        if (at >= 0) s.list = removeAt(s.list, at);
        if (s.list.length == 0 && s.count > 0) {
            s.list = top(lookup.readingsOf(equipmentId));
            return true;
        }
        return false;
    }

    /** The latest reading, or null when none is known (no readings, or a lookup that found none yet). */
    public static long[] latest(State s) {
        if (s.list.length == 0) return null;
        long[] out = new long[WIDTH];
        System.arraycopy(s.list, 0, out, 0, WIDTH);
        return out;
    }

    /** True when `reading` sorts after (is newer than) the list's entry at index i. */
    static boolean newer(long[] reading, long[] list, int i) {
        long measured = list[i * WIDTH];
        long id = list[i * WIDTH + 1];
        return reading[0] > measured || (reading[0] == measured && reading[1] > id);
    }

    static int indexOf(long[] list, long readingId) {
        for (int i = 0; i < list.length / WIDTH; i++) {
            if (list[i * WIDTH + 1] == readingId) return i;
        }
        return -1;
    }

    /** Insert in order (newest first), keeping at most KEEP entries. */
    static long[] insert(long[] list, long[] reading) {
        int size = list.length / WIDTH;
        int at = 0;
        while (at < size && !newer(reading, list, at)) at++;
        int kept = Math.min(size + 1, KEEP);
        if (at >= kept) return list;
        long[] out = new long[kept * WIDTH];
        System.arraycopy(list, 0, out, 0, at * WIDTH);
        System.arraycopy(reading, 0, out, at * WIDTH, WIDTH);
        System.arraycopy(list, at * WIDTH, out, (at + 1) * WIDTH, (kept - at - 1) * WIDTH);
        return out;
    }

    static long[] removeAt(long[] list, int at) {
        long[] out = new long[list.length - WIDTH];
        System.arraycopy(list, 0, out, 0, at * WIDTH);
        System.arraycopy(list, (at + 1) * WIDTH, out, at * WIDTH, out.length - at * WIDTH);
        return out;
    }

    /** The newest KEEP of `readings` (any order), newest first. */
    static long[] top(List<long[]> readings) {
        long[] list = new long[0];
        for (long[] r : readings) list = insert(list, r);
        return list;
    }
}
