/*
 * gridflow (sql/exact): sends one key's bundle result as gridflow.exact.Emission decided. Shared by the
 * two mini-batch aggregate functions of this folder, which stand in for Flink 1.20.3's classes of the
 * same names (see MiniBatchGroupAggFunction.java here for why and how).
 */
package org.apache.flink.table.runtime.operators.aggregate;

import gridflow.exact.Emission;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.utils.JoinedRowData;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

final class ExactEmitter {
    private final boolean generateUpdateBefore;
    private final JoinedRowData row = new JoinedRowData();

    ExactEmitter(boolean generateUpdateBefore) {
        this.generateUpdateBefore = generateUpdateBefore;
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
