/*
 * Model check of the warehouse's aggregation under restores (gridflow.exact.Emission, sql/exact): the
 * same decision code the dws and ads jobs' aggregates run, in a two-job model of the pipeline.
 *
 *   source rows (id -> group, value), random inserts, updates (moves, new values) and deletes, many of
 *   them undone right after (inserted then deleted, updated then restored, moved and moved back)
 *   -> changelog -> job 1: per group count, sum and max (like dws: COUNT/SUM and the latest reading,
 *      a maximum that retractions can take back) -> upsert table T1 (Fluss: -U/+U per upsert, -D per
 *      delete of a present key)
 *   -> T1's changelog -> job 2: per group class (group % 3) rows, sum of counts, sum of sums, max of
 *      maxima (like ads over dws) -> upsert table T2 (the sink)
 *
 * Each job reads its input in mini-batches of random size, takes checkpoints (state + input offset) at
 * random moments and is lost at random moments: it then restores from one of the last three checkpoints
 * of the lost instance (or the point that instance was restored from) and replays its input from there,
 * while its output table keeps everything the lost instance wrote.
 * Writes are at least once: some are delivered twice. At the end both tables must equal the contract
 * evaluated on the source, for every key.
 *
 * Run by test/unit/exact/exact-replay.test.ts:  java ExactReplayCheck <rule> <seeds> <steps>
 * Prints the first failures (seed, table, key, expected, got) and the count: "failures N".
 */
package gridflow.exact;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;

public final class ExactReplayCheck {
    /** A changelog record: kind and row (key first). */
    private record Change(char kind, long[] row) {
        boolean accumulates() { return kind == 'I' || kind == 'A'; } // +I, +U (A: update after)
    }

    /** Per-key accumulator: rows counted, sum, and the multiset of values for the maximum. */
    private static final class Acc {
        long count;
        long sum;
        long sumB;
        TreeMap<Long, Integer> values = new TreeMap<>();

        Acc copy() {
            Acc a = new Acc();
            a.count = count;
            a.sum = sum;
            a.sumB = sumB;
            a.values = new TreeMap<>(values);
            return a;
        }

        void add(long count, long sum, long max, int sign) {
            this.count += sign;
            this.sum += sign * count;
            this.sumB += sign * sum;
            values.merge(max, sign, Integer::sum);
            if (values.get(max) == 0) values.remove(max);
        }

        long[] value(long key) {
            return new long[] {key, count, sum, sumB, values.isEmpty() ? Long.MIN_VALUE : values.lastKey()};
        }
    }

    /** An upsert table with Fluss's changelog. */
    private static final class Table {
        final Map<Long, long[]> rows = new HashMap<>();
        final List<Change> log = new ArrayList<>();

        void upsert(long[] row) {
            long[] old = rows.put(row[0], row);
            if (old == null) log.add(new Change('I', row));
            else {
                log.add(new Change('B', old));
                log.add(new Change('A', row));
            }
        }

        void delete(long key) {
            long[] old = rows.remove(key);
            if (old != null) log.add(new Change('D', old));
        }
    }

    /** One aggregating job: input log -> keyed accumulators -> output table. */
    private static final class Job {
        final Emission.Rule rule;
        final java.util.function.Function<long[], long[]> input; // input row -> {key, count, sum, max}
        Map<Long, Acc> state = new HashMap<>();
        int offset;
        final List<Object[]> checkpoints = new ArrayList<>();

        Job(Emission.Rule rule, java.util.function.Function<long[], long[]> input) {
            this.rule = rule;
            this.input = input;
        }

        void checkpoint() {
            Map<Long, Acc> copy = new HashMap<>();
            state.forEach((k, v) -> copy.put(k, v.copy()));
            checkpoints.add(new Object[] {copy, offset});
            if (checkpoints.size() > 3) checkpoints.remove(0);
        }

        @SuppressWarnings("unchecked")
        void restore(Random r) {
            if (checkpoints.isEmpty()) {
                state = new HashMap<>();
                offset = 0;
                return;
            }
            Object[] cp = checkpoints.get(r.nextInt(checkpoints.size()));
            // The new instance's lineage starts here: its later restores pick from its own checkpoints or
            // this one (gridflow restores the newest complete checkpoint of the instance that was lost,
            // or what it was restored from; never a newer one of an older instance).
            checkpoints.clear();
            checkpoints.add(cp);
            state = new HashMap<>();
            ((Map<Long, Acc>) cp[0]).forEach((k, v) -> state.put(k, v.copy()));
            offset = (Integer) cp[1];
        }

        /** One mini-batch of up to n records of the log; writes its emissions to out (some twice). */
        void bundle(List<Change> log, int n, Table out, Random r) {
            int end = Math.min(log.size(), offset + n);
            LinkedHashMap<Long, List<Change>> byKey = new LinkedHashMap<>();
            for (int i = offset; i < end; i++) {
                Change c = log.get(i);
                byKey.computeIfAbsent(input.apply(c.row())[0], k -> new ArrayList<>()).add(c);
            }
            offset = end;
            for (Map.Entry<Long, List<Change>> e : byKey.entrySet()) {
                long key = e.getKey();
                Acc acc = state.get(key);
                boolean hadState = acc != null;
                List<Change> rows = e.getValue();
                if (!hadState) {
                    int first = 0;
                    while (first < rows.size() && !rows.get(first).accumulates()) first++;
                    rows = rows.subList(first, rows.size());
                    acc = new Acc();
                }
                long[] before = acc.value(key);
                if (rows.isEmpty()) {
                    Emission.Kind kind = Emission.onlyRetractionsWithoutState(rule);
                    if (kind == null) return; // Flink 1.20.3 leaves the whole bundle (FLINK-35661)
                    write(kind, before, before, out, r);
                    continue;
                }
                for (Change c : rows) {
                    long[] v = input.apply(c.row());
                    acc.add(v[1], v[2], v[3], c.accumulates() ? 1 : -1);
                }
                long[] after = acc.value(key);
                boolean alive = acc.count != 0;
                if (alive) state.put(key, acc);
                else state.remove(key);
                write(Emission.decide(rule, hadState, alive, !java.util.Arrays.equals(before, after)), before, after, out, r);
            }
        }

        private static void write(Emission.Kind kind, long[] before, long[] after, Table out, Random r) {
            int times = r.nextInt(10) == 0 ? 2 : 1; // at least once
            for (int t = 0; t < times; t++) {
                switch (kind) {
                    case INSERT, UPDATE -> out.upsert(after);
                    case DELETE -> out.delete(before[0]);
                    default -> { }
                }
            }
        }
    }

    public static void main(String[] args) {
        Emission.Rule rule = Emission.Rule.valueOf(args[0]);
        int seeds = Integer.parseInt(args[1]);
        int steps = Integer.parseInt(args[2]);
        int failures = 0;
        long restores = 0;
        for (int seed = 1; seed <= seeds; seed++) {
            Random r = new Random(seed);
            Map<Long, long[]> source = new HashMap<>(); // id -> {id, group, value}
            List<Change> cdc = new ArrayList<>();
            Table t1 = new Table();
            Table t2 = new Table();
            // job 1: a source row {id, group, value} counts once in its group, with its value
            Job j1 = new Job(rule, row -> new long[] {row[1], 1, row[2], row[2]});
            // job 2: a T1 row {group, count, sum, sumB, max} counts in class group % 3
            Job j2 = new Job(rule, row -> new long[] {row[0] % 3, row[1], row[2], row[4]});
            // Few keys: changes overwrite each other's traces; many: a wrong key stays wrong to the end.
            int ids = 3 + r.nextInt(60);
            int groups = 2 + r.nextInt(30);
            for (int step = 0; step < steps; step++) {
                int action = r.nextInt(100);
                if (action < 50) {
                    change(r, source, cdc, ids, groups);
                } else if (action < 65) {
                    j1.bundle(cdc, 1 + r.nextInt(12), t1, r);
                } else if (action < 80) {
                    j2.bundle(t1.log, 1 + r.nextInt(12), t2, r);
                } else if (action < 90) {
                    (r.nextBoolean() ? j1 : j2).checkpoint();
                } else if (action < 95) {
                    j1.restore(r);
                    restores++;
                } else {
                    j2.restore(r);
                    restores++;
                }
            }
            // Nothing fails any more: both jobs read to the end (job 1 first: job 2 reads what it wrote).
            while (j1.offset < cdc.size()) j1.bundle(cdc, 1 + r.nextInt(12), t1, r);
            while (j2.offset < t1.log.size()) j2.bundle(t1.log, 1 + r.nextInt(12), t2, r);

            Map<Long, long[]> c1 = contract(source.values(), row -> new long[] {row[1], 1, row[2], row[2]});
            Map<Long, long[]> c2 = contract(c1.values(), row -> new long[] {row[0] % 3, row[1], row[2], row[4]});
            failures += compare(seed, "T1", c1, t1.rows, failures);
            failures += compare(seed, "T2", c2, t2.rows, failures);
        }
        System.out.println("rule " + rule + ": " + seeds + " runs of " + steps + " steps, " + restores + " restores; failures " + failures);
        System.exit(failures == 0 ? 0 : 1);
    }

    /** One source change, often followed at once by its undo. */
    private static void change(Random r, Map<Long, long[]> source, List<Change> cdc, int ids, int groups) {
        long id = 1 + r.nextInt(ids);
        long[] old = source.get(id);
        boolean undo = r.nextInt(3) == 0;
        if (old == null) {
            long[] row = {id, r.nextInt(groups), r.nextInt(20)};
            put(source, cdc, null, row);
            if (undo) put(source, cdc, row, null);
        } else if (r.nextInt(4) == 0) {
            put(source, cdc, old, null);
            if (undo) put(source, cdc, null, old);
        } else {
            long[] row = r.nextBoolean() ? new long[] {id, r.nextInt(groups), old[2]} : new long[] {id, old[1], r.nextInt(20)};
            put(source, cdc, old, row);
            if (undo) put(source, cdc, row, old);
        }
    }

    private static void put(Map<Long, long[]> source, List<Change> cdc, long[] old, long[] row) {
        if (old != null && row != null) {
            cdc.add(new Change('B', old));
            cdc.add(new Change('A', row));
            source.put(row[0], row);
        } else if (row != null) {
            cdc.add(new Change('I', row));
            source.put(row[0], row);
        } else {
            cdc.add(new Change('D', old));
            source.remove(old[0]);
        }
    }

    private static Map<Long, long[]> contract(Iterable<long[]> rows, java.util.function.Function<long[], long[]> input) {
        Map<Long, Acc> accs = new HashMap<>();
        for (long[] row : rows) {
            long[] v = input.apply(row);
            accs.computeIfAbsent(v[0], k -> new Acc()).add(v[1], v[2], v[3], 1);
        }
        Map<Long, long[]> out = new HashMap<>();
        accs.forEach((k, a) -> out.put(k, a.value(k)));
        return out;
    }

    private static int compare(int seed, String table, Map<Long, long[]> expected, Map<Long, long[]> got, int before) {
        int failures = 0;
        java.util.Set<Long> keys = new java.util.TreeSet<>(expected.keySet());
        keys.addAll(got.keySet());
        for (long k : keys) {
            long[] e = expected.get(k);
            long[] g = got.get(k);
            if (!Objects.equals(e == null ? null : java.util.Arrays.toString(e), g == null ? null : java.util.Arrays.toString(g))) {
                failures++;
                if (before + failures <= 10) {
                    System.out.println("FAIL seed " + seed + " " + table + " key " + k + ": contract " + show(e) + ", table " + show(g));
                }
            }
        }
        return failures;
    }

    private static String show(long[] row) {
        return row == null ? "(no row)" : java.util.Arrays.toString(row);
    }
}
