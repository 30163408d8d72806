/*
 * What a mini-batch group aggregate sends downstream for one key at the end of a bundle: the rule that
 * makes the warehouse exact after any restore (sql/NOTES.md, "Exact after a restore").
 *
 * A job restored from checkpoint C replays every input change after C. Its output tables (Fluss
 * primary-key tables, written at least once) may still hold what the lost instance wrote after C. Flink
 * 1.20's rule compares the key's result before and after the bundle and says nothing when they are
 * equal, or when a key born in the bundle also died in it. After a restore those are exactly the keys
 * whose last written value came from the lost instance: a reading inserted and deleted while the job
 * was down leaves the inserted reading downstream for good.
 *
 * The exact rule: every key a bundle touches leaves it with its current value, or with a delete when
 * it has none. Output after replay is then complete for every key touched since the restore point,
 * whatever the lost instance wrote, and the cost is one upsert per touched key whose result did not
 * change (rare: a touched key's result almost always changes). A delete of a key the output never had
 * is a no-op for an upsert table.
 *
 * Pure and static, so test/java/gridflow/exact/ExactReplayCheck.java model-checks the same code the
 * operators run.
 */
package gridflow.exact;

public final class Emission {
    private Emission() {}

    /** What to send for a key at the end of a bundle. */
    public enum Kind {
        /** Nothing. */
        NONE,
        /** +I of the new value (the key had no state before the bundle). */
        INSERT,
        /** -U of the previous value (if the operator sends update-befores) and +U of the new one. */
        UPDATE,
        /** -D of the previous value (or of the empty result, for a key that had no state). */
        DELETE
    }

    /** Which rule: Flink 1.20.3's own (for the model check's "before"), or gridflow's. */
    public enum Rule {
        FLINK_1_20,
        EXACT
    }

    /**
     * @param hadState the key had an accumulator in state before the bundle
     * @param alive the key's record count is not zero after the bundle
     * @param changed the result after the bundle differs from the result before it
     */
    public static Kind decide(Rule rule, boolean hadState, boolean alive, boolean changed) {
        if (rule == Rule.EXACT) {
            if (!alive) return Kind.DELETE;
            return hadState ? Kind.UPDATE : Kind.INSERT;
        }
        if (!hadState) return alive ? Kind.INSERT : Kind.NONE;
        if (!alive) return Kind.DELETE;
        return changed ? Kind.UPDATE : Kind.NONE;
    }

    /**
     * A key whose bundle holds only retractions and that has no state. Flink 1.20.3 then leaves the whole
     * bundle (FLINK-35661: `return` where `continue` was meant), so every key after it in the bundle is
     * neither aggregated nor sent. The exact rule sends a delete for the key (it has no value; an output
     * written by a lost instance may still hold one) and goes on with the next key.
     */
    public static Kind onlyRetractionsWithoutState(Rule rule) {
        return rule == Rule.EXACT ? Kind.DELETE : null;
    }

    /** The rule the operators run. */
    public static final Rule ACTIVE = Rule.EXACT;
}
