/*
 * gridflow (sql/exact): what the two mini-batch aggregate functions of this folder share, which stand in
 * for Flink 1.20.3's classes of the same names (see MiniBatchGroupAggFunction.java here for why and how):
 * the accumulator state, and the end of one key's bundle — keep or clear its state, decide with
 * gridflow.exact.Emission what to send, and send it.
 */
package org.apache.flink.table.runtime.operators.aggregate;

import gridflow.exact.Emission;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.utils.JoinedRowData;
import org.apache.flink.table.runtime.generated.AggsHandleFunction;
import org.apache.flink.table.runtime.generated.RecordEqualiser;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

final class ExactEmitter {
    private final RecordCounter counter;
    private final RecordEqualiser equaliser;
    private final boolean generateUpdateBefore;
    private final JoinedRowData row = new JoinedRowData();

    ExactEmitter(RecordCounter counter, RecordEqualiser equaliser, boolean generateUpdateBefore) {
        this.counter = counter;
        this.equaliser = equaliser;
        this.generateUpdateBefore = generateUpdateBefore;
    }

    /** The accumulators per key, as Flink's classes keep them ("accState"), so either restores the other's checkpoints. */
    static ValueState<RowData> accumulatorState(RuntimeContext context, LogicalType[] accumulatorTypes, StateTtlConfig ttl) {
        ValueStateDescriptor<RowData> descriptor = new ValueStateDescriptor<>("accState", InternalTypeInfo.ofFields(accumulatorTypes));
        if (ttl.isEnabled()) descriptor.enableTimeToLive(ttl);
        return context.getState(descriptor);
    }

    /**
     * The end of one key's bundle, once `aggs` holds its accumulators after the bundle: the state kept
     * (or cleared when no record is left), and the key sent as Emission decides.
     *
     * @param before the key's result before the bundle (the empty result for a key without state)
     */
    void finish(RowData key, boolean hadState, RowData before, AggsHandleFunction aggs, ValueState<RowData> state, Collector<RowData> out) throws Exception {
        RowData after = aggs.getValue();
        RowData acc = aggs.getAccumulators();
        boolean alive = !counter.recordCountIsZero(acc);
        if (alive) {
            state.update(acc);
        } else {
            state.clear();
            aggs.cleanup();
        }
        boolean changed = Emission.ACTIVE == Emission.Rule.EXACT || !equaliser.equals(before, after);
        emit(Emission.decide(Emission.ACTIVE, hadState, alive, changed), key, before, after, out);
    }

    /**
     * @param before the key's result before the bundle (the empty result for a key without state)
     * @param after its result after the bundle
     */
    void emit(Emission.Kind kind, RowData key, RowData before, RowData after, Collector<RowData> out) {
        switch (kind) {
            case INSERT:
                send(key, after, RowKind.INSERT, out);
                break;
            case UPDATE:
                if (generateUpdateBefore) send(key, before, RowKind.UPDATE_BEFORE, out);
                send(key, after, RowKind.UPDATE_AFTER, out);
                break;
            case DELETE:
                // Only the key matters to an upsert sink; the previous value where there was one.
                send(key, before, RowKind.DELETE, out);
                break;
            case NONE:
            default:
                break;
        }
    }

    private void send(RowData key, RowData value, RowKind kind, Collector<RowData> out) {
        row.replace(key, value);
        row.setRowKind(kind);
        out.collect(row);
    }
}
