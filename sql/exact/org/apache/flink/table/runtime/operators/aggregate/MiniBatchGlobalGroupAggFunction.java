/*
 * gridflow (sql/exact): the global half of the two-phase mini-batch group aggregate, in place of Flink
 * 1.20.3's class of the same name, for the reason given in MiniBatchGroupAggFunction.java here: every key
 * a bundle touches leaves with its current value or a delete (gridflow.exact.Emission), so a job
 * restored from a checkpoint rewrites whatever its lost instance wrote after it. The local half
 * (MiniBatchLocalGroupAggFunction) keeps no state and decides nothing; it stays Flink's. State is what
 * Flink's class keeps ("accState"), so checkpoints of either restore into the other.
 */
package org.apache.flink.table.runtime.operators.aggregate;

import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.context.ExecutionContext;
import org.apache.flink.table.runtime.dataview.PerKeyStateDataViewStore;
import org.apache.flink.table.runtime.generated.AggsHandleFunction;
import org.apache.flink.table.runtime.generated.GeneratedAggsHandleFunction;
import org.apache.flink.table.runtime.generated.GeneratedRecordEqualiser;
import org.apache.flink.table.runtime.operators.bundle.MapBundleFunction;
import org.apache.flink.table.runtime.util.StateConfigUtil;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.util.Collector;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class MiniBatchGlobalGroupAggFunction extends MapBundleFunction<RowData, RowData, RowData, RowData> {

    private static final Logger LOG = LoggerFactory.getLogger(MiniBatchGlobalGroupAggFunction.class);

    /** Not Flink's: a process that loaded Flink's class beside ours fails loudly when it reads the job. */
    private static final long serialVersionUID = 0x67726964666c6f02L;

    private final GeneratedAggsHandleFunction localAggsCode;
    private final GeneratedAggsHandleFunction globalAggsCode;
    private final GeneratedRecordEqualiser equaliserCode;
    private final LogicalType[] accumulatorTypes;
    private final RecordCounter counter;
    private final boolean generateUpdateBefore;
    private final long stateRetentionMillis;

    private transient AggsHandleFunction local;
    private transient AggsHandleFunction global;
    private transient ValueState<RowData> accumulators;
    private transient ExactEmitter emitter;

    public MiniBatchGlobalGroupAggFunction(
            GeneratedAggsHandleFunction genLocalAggsHandler,
            GeneratedAggsHandleFunction genGlobalAggsHandler,
            GeneratedRecordEqualiser genRecordEqualiser,
            LogicalType[] accTypes,
            int indexOfCountStar,
            boolean generateUpdateBefore,
            long stateRetentionTime) {
        this.localAggsCode = genLocalAggsHandler;
        this.globalAggsCode = genGlobalAggsHandler;
        this.equaliserCode = genRecordEqualiser;
        this.accumulatorTypes = accTypes;
        this.counter = RecordCounter.of(indexOfCountStar);
        this.generateUpdateBefore = generateUpdateBefore;
        this.stateRetentionMillis = stateRetentionTime;
    }

    @Override
    public void open(ExecutionContext context) throws Exception {
        super.open(context);
        ClassLoader loader = context.getRuntimeContext().getUserCodeClassLoader();
        StateTtlConfig ttl = StateConfigUtil.createTtlConfig(stateRetentionMillis);
        local = localAggsCode.newInstance(loader);
        local.open(new PerKeyStateDataViewStore(context.getRuntimeContext()));
        global = globalAggsCode.newInstance(loader);
        global.open(new PerKeyStateDataViewStore(context.getRuntimeContext(), ttl));
        accumulators = ExactEmitter.accumulatorState(context.getRuntimeContext(), accumulatorTypes, ttl);
        emitter = new ExactEmitter(counter, equaliserCode.newInstance(loader), generateUpdateBefore);
        LOG.info("gridflow exact mini-batch aggregate (global, sql/exact): every key a bundle touches is sent with its current value or a delete");
    }

    /** Merges one local partial result (a row of key and accumulators) into the bundle's accumulator for its key. */
    @Override
    public RowData addInput(RowData buffered, RowData input) throws Exception {
        local.setAccumulators(buffered == null ? local.createAccumulators() : buffered);
        local.merge(input);
        return local.getAccumulators();
    }

    @Override
    public void finishBundle(Map<RowData, RowData> bundle, Collector<RowData> out) throws Exception {
        for (Map.Entry<RowData, RowData> entry : bundle.entrySet()) {
            RowData key = entry.getKey();
            ctx.setCurrentKey(key);
            RowData acc = accumulators.value();
            boolean hadState = acc != null;
            global.setAccumulators(hadState ? acc : global.createAccumulators());
            RowData before = global.getValue();
            global.merge(entry.getValue());
            emitter.finish(key, hadState, before, global, accumulators, out);
        }
    }

    @Override
    public void close() throws Exception {
        if (local != null) local.close();
        if (global != null) global.close();
    }
}
