/*
 * Model check of LatestReadings (sql/udf): random changelogs of one equipment's readings (inserts in
 * and out of time order, ties, deletes of the latest and of others, updates that move a reading in
 * time, everything deleted and refilled) against a plain model, the table itself. Two lookups:
 *   exact  — the table as of the change being applied: the latest must be right after EVERY change;
 *   later  — the table as of a random later change (what Fluss may serve): right once all are applied.
 * Run by test/unit/udf/latest-readings.test.ts:  java LatestReadingsCheck <seeds> <changes per seed>
 * Prints one line per failure (seed, step, expected, got) and exits 1 if there was any.
 */
package gridflow.udf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

public final class LatestReadingsCheck {
    /** One change of the changelog: +reading or -reading. */
    private record Change(boolean add, long[] reading) {}

    public static void main(String[] args) {
        int seeds = Integer.parseInt(args[0]);
        int steps = Integer.parseInt(args[1]);
        int failures = 0;
        long lookups = 0;
        for (int seed = 1; seed <= seeds; seed++) {
            List<Change> log = changelog(new Random(seed), steps);
            List<Map<Long, long[]>> states = replay(log);
            for (boolean later : new boolean[] {false, true}) {
                Random pick = new Random(seed * 31L + (later ? 1 : 0));
                LatestReadings.State s = new LatestReadings.State(0, new long[0]);
                int[] position = {0};
                LatestReadings.Lookup lookup = id -> {
                    int at = later ? position[0] + 1 + pick.nextInt(log.size() - position[0]) : position[0] + 1;
                    return new ArrayList<>(states.get(Math.min(at, log.size())).values());
                };
                for (int i = 0; i < log.size(); i++) {
                    position[0] = i;
                    Change c = log.get(i);
                    boolean asked = c.add() ? LatestReadings.add(s, c.reading(), "e", lookup) : LatestReadings.remove(s, c.reading()[1], "e", lookup);
                    if (asked) lookups++;
                    if (!later || i == log.size() - 1) {
                        long[] expected = newest(states.get(i + 1));
                        long[] got = LatestReadings.latest(s);
                        if (!same(expected, got)) {
                            failures++;
                            if (failures <= 20) {
                                System.out.println("FAIL seed " + seed + (later ? " (later lookups)" : " (exact lookups)") + " after change " + i + ": expected "
                                        + show(expected) + ", got " + show(got));
                            }
                            break;
                        }
                    }
                }
            }
        }
        System.out.println("checked " + seeds + " changelogs of " + steps + " changes, two lookup modes; lookups " + lookups + "; failures " + failures);
        System.exit(failures == 0 ? 0 : 1);
    }

    private static List<Change> changelog(Random r, int steps) {
        List<Change> log = new ArrayList<>();
        Map<Long, long[]> alive = new HashMap<>();
        long nextId = 1;
        long clock = 1_000_000;
        for (int i = 0; i < steps; i++) {
            int op = r.nextInt(100);
            if (op < 45 || alive.isEmpty()) { // a new reading, mostly the newest
                clock += r.nextInt(3) * 1000L; // ties happen
                long at = r.nextInt(10) < 8 ? clock : clock - r.nextInt(50_000);
                long[] reading = {at, nextId++, r.nextInt(100_000), r.nextInt(10_000)};
                alive.put(reading[1], reading);
                log.add(new Change(true, reading));
            } else if (op < 65) { // delete the latest
                long[] latest = newest(alive);
                alive.remove(latest[1]);
                log.add(new Change(false, latest));
            } else if (op < 80) { // delete any
                long[] any = alive.values().stream().skip(r.nextInt(alive.size())).findFirst().get();
                alive.remove(any[1]);
                log.add(new Change(false, any));
            } else if (op < 95) { // update: -old, +new (moved in time, maybe to the front or the back)
                long[] old = r.nextBoolean() ? newest(alive) : alive.values().stream().skip(r.nextInt(alive.size())).findFirst().get();
                long[] updated = {old[0] + (r.nextInt(100_000) - 60_000), old[1], r.nextInt(100_000), r.nextInt(10_000)};
                alive.put(old[1], updated);
                log.add(new Change(false, old));
                log.add(new Change(true, updated));
            } else { // everything deleted
                for (long[] x : new ArrayList<>(alive.values())) {
                    alive.remove(x[1]);
                    log.add(new Change(false, x));
                }
            }
        }
        return log;
    }

    /** states.get(k) = the table after the first k changes. */
    private static List<Map<Long, long[]>> replay(List<Change> log) {
        List<Map<Long, long[]>> states = new ArrayList<>();
        Map<Long, long[]> table = new HashMap<>();
        states.add(new HashMap<>(table));
        for (Change c : log) {
            if (c.add()) table.put(c.reading()[1], c.reading());
            else table.remove(c.reading()[1]);
            states.add(new HashMap<>(table));
        }
        return states;
    }

    private static long[] newest(Map<Long, long[]> table) {
        return table.values().stream().max(Comparator.<long[]>comparingLong(x -> x[0]).thenComparingLong(x -> x[1])).orElse(null);
    }

    private static boolean same(long[] a, long[] b) {
        if (a == null || b == null) return a == b;
        return java.util.Arrays.equals(a, b);
    }

    private static String show(long[] x) {
        return x == null ? "none" : "reading " + x[1] + " at " + x[0];
    }
}
