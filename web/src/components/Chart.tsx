// ECharts with only the parts the workbench uses (keeps the chunk small).
import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { LineChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
  DataZoomComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, MarkPointComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

export function Chart({ option, height = 320 }: { option: EChartsCoreOption; height?: number }) {
  return <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height }} />;
}
export default Chart;
