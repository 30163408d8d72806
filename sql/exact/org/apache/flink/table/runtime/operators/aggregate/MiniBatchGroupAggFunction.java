/*
 * gridflow (sql/exact): the one-phase mini-batch group aggregate, in place of Flink 1.20.3's class of the
 * same name. This jar comes first on every Flink classpath (JobManager, TaskManagers, SQL Gateway;
 * src/stack/fetch.ts, docker/compose.yml), so the planner builds and the TaskManagers run this class.
 *
 * Why: a job restored from a checkpoint replays its inputs, but its Fluss output tables keep what the
 * lost instance wrote after that checkpoint. Flink's class sends nothing for a key whose result a bundle
 * left unchanged, or that was born and died in the bundle: after a restore the output then keeps the
 * lost instance's value for good (issue 20: a reading inserted, then deleted while the dws job was down,
 * stayed in the sink). And with a bundle key that has only retractions and no state, 1.20.3 leaves the
 * whole bundle, so every later key of the bundle is lost (FLINK-35661, fixed in later releases).
 * Here every key a bundle touches leaves with its current value or a delete (gridflow.exact.Emission).
 *
 * State is what Flink's class keeps (one ValueState "accState" of the accumulators, TTL as configured),
 * so checkpoints and savepoints of either restore into the other.
 */
package org.apache.flink.table.runtime.operators.aggregate;

import gridflow.exact.Emission;

import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.util.RowDataUtil;
import org.apache.flink.table.runtime.context.ExecutionContext;
import org.apache.flink.table.runtime.dataview.PerKeyStateDataViewStore;
import org.apache.flink.table.runtime.generated.AggsHandleFunction;
import org.apache.flink.table.runtime.generated.GeneratedAggsHandleFunction;
import org.apache.flink.table.runtime.generated.GeneratedRecordEqualiser;
import org.apache.flink.table.runtime.operators.bundle.MapBundleFunction;
import org.apache.flink.table.runtime.typeutils.InternalSerializers;
import org.apache.flink.table.runtime.util.StateConfigUtil;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class MiniBatchGroupAggFunction extends MapBundleFunction<RowData, List<RowData>, RowData, RowData> {

    private static final Logger LOG = LoggerFactory.getLogger(MiniBatchGroupAggFunction.class);

    /** Not Flink's: a process that loaded Flink's class beside ours fails loudly when it reads the job. */
    private static final long serialVersionUID = 0x67726964666c6f01L;

    private final GeneratedAggsHandleFunction aggsHandlerCode;
    private final GeneratedRecordEqualiser equaliserCode;
    private final LogicalType[] accumulatorTypes;
    private final RowType inputType;
    private final RecordCounter counter;
    private final boolean generateUpdateBefore;
    private final long stateRetentionMillis;

    private transient AggsHandleFunction aggs;
    private transient ValueState<RowData> accumulators;
    private transient TypeSerializer<RowData> inputCopier;
    private transient ExactEmitter emitter;

    public MiniBatchGroupAggFunction(
            GeneratedAggsHandleFunction genAggsHandler,
            GeneratedRecordEqualiser genRecordEqualiser,
            LogicalType[] accTypes,
            RowType inputType,
            int indexOfCountStar,
            boolean generateUpdateBefore,
            long stateRetentionTime) {
        this.aggsHandlerCode = genAggsHandler;
        this.equaliserCode = genRecordEqualiser;
        this.accumulatorTypes = accTypes;
        this.inputType = inputType;
        this.counter = RecordCounter.of(indexOfCountStar);
        this.generateUpdateBefore = generateUpdateBefore;
        this.stateRetentionMillis = stateRetentionTime;
    }

    @Override
    public void open(ExecutionContext context) throws Exception {
        super.open(context);
        ClassLoader loader = context.getRuntimeContext().getUserCodeClassLoader();
        StateTtlConfig ttl = StateConfigUtil.createTtlConfig(stateRetentionMillis);
        aggs = aggsHandlerCode.newInstance(loader);
        aggs.open(new PerKeyStateDataViewStore(context.getRuntimeContext(), ttl));
        accumulators = ExactEmitter.accumulatorState(context.getRuntimeContext(), accumulatorTypes, ttl);
        inputCopier = InternalSerializers.create(inputType);
        emitter = new ExactEmitter(counter, equaliserCode.newInstance(loader), generateUpdateBefore);
        LOG.info("gridflow exact mini-batch aggregate (one-phase, sql/exact): every key a bundle touches is sent with its current value or a delete");
    }

    @Override
    public List<RowData> addInput(List<RowData> buffered, RowData input) throws Exception {
        List<RowData> rows = buffered == null ? new ArrayList<>() : buffered;
        rows.add(inputCopier.copy(input)); // the input object is reused by the caller
        return rows;
    }

    @Override
    public void finishBundle(Map<RowData, List<RowData>> bundle, Collector<RowData> out) throws Exception {
        for (Map.Entry<RowData, List<RowData>> entry : bundle.entrySet()) {
            RowData key = entry.getKey();
            ctx.setCurrentKey(key);
            RowData acc = accumulators.value();
            boolean hadState = acc != null;
            List<RowData> rows = entry.getValue();
            if (!hadState) {
                // Retractions of rows this key never counted cannot be applied to a new accumulator.
                int first = 0;
                while (first < rows.size() && RowDataUtil.isRetractMsg(rows.get(first))) first++;
                rows = rows.subList(first, rows.size());
                acc = aggs.createAccumulators();
            }
            aggs.setAccumulators(acc);
            RowData before = aggs.getValue();
            if (rows.isEmpty()) {
                emitter.emit(Emission.onlyRetractionsWithoutState(Emission.ACTIVE), key, before, before, out);
                continue;
            }
            for (RowData row : rows) {
                if (RowDataUtil.isAccumulateMsg(row)) aggs.accumulate(row);
                else aggs.retract(row);
            }
            emitter.finish(key, hadState, before, aggs, accumulators, out);
        }
    }

    @Override
    public void close() throws Exception {
        if (aggs != null) aggs.close();
    }
}
