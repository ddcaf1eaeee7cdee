// Draws the charts a page describes. Each chart is a <div data-chart id=…> followed by a
// <script type="application/json" data-chart-for=…> holding its specification, written by
// api/formatting.py and passed with Jinja's tojson: no value is ever spliced into
// JavaScript. ECharts does the drawing; this file only maps a specification to an option.
(function () {
  'use strict';
  const lang = document.documentElement.lang || 'zh-CN';
  const locale = lang.startsWith('zh') ? 'ZH' : 'EN';
  const numbers = new Intl.NumberFormat(lang, {maximumFractionDigits: 1});
  const show = (value, unit) => (value == null ? '—' : numbers.format(value) + (unit ? ' ' + unit : ''));

  function title(spec) {
    // The unit goes into the title (not an axis name, which would sit under it).
    const text = spec.unit ? `${spec.title}（${spec.unit}）` : spec.title;
    return {text, left: 'center', top: 0, textStyle: {fontSize: 13, fontWeight: 'normal'}};
  }

  function bars(spec) {
    const many = spec.categories.length > 12;
    const category = {
      type: 'category',
      data: spec.categories,
      axisLabel: {interval: 0, rotate: many && !spec.horizontal ? 35 : 0, width: 90, overflow: 'truncate'},
    };
    const value = {type: 'value', splitNumber: 4, axisLabel: {formatter: (v) => numbers.format(v), hideOverlap: true}};
    return {
      title: title(spec),
      tooltip: {trigger: 'axis', valueFormatter: (v) => show(v, spec.unit)},
      legend: spec.series.length > 1 ? {top: 22} : undefined,
      grid: {containLabel: true, left: 8, right: spec.horizontal ? 56 : 24, top: spec.series.length > 1 ? 56 : 36, bottom: 8},
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? {...category, inverse: true} : value,
      series: spec.series.map((s) => ({
        name: s.name,
        type: 'bar',
        data: s.data,
        label: {show: spec.categories.length <= 4, position: spec.horizontal ? 'right' : 'top', formatter: (p) => show(p.value)},
      })),
    };
  }

  function pie(spec) {
    return {
      title: title(spec),
      tooltip: {trigger: 'item', valueFormatter: (v) => show(v, spec.unit)},
      series: [{
        type: 'pie',
        radius: ['28%', '52%'],
        top: 24,
        avoidLabelOverlap: true,
        label: {formatter: (p) => `${p.name}\n${show(p.value)} (${p.percent.toFixed(0)}%)`, alignTo: 'edge', edgeDistance: 4, overflow: 'none'},
        labelLine: {length: 6, length2: 6},
        labelLayout: {hideOverlap: false, moveOverlap: 'shiftY'},
        data: spec.items,
      }],
    };
  }

  function lines(spec) {
    // The axis shows the county's wall time whatever the viewer's zone: times are shifted
    // by the county's offset and drawn as UTC.
    const shift = spec.tz_offset_s * 1000;
    return {
      useUTC: true,
      title: title(spec),
      tooltip: {trigger: 'axis', valueFormatter: (v) => show(v, spec.unit)},
      legend: {top: 22},
      grid: {containLabel: true, left: 8, right: 24, top: 56, bottom: 8},
      xAxis: {type: 'time', axisLabel: {hideOverlap: true, formatter: '{HH}:{mm}'}},
      yAxis: {type: 'value'},
      series: spec.series.map((s) => ({
        name: s.name,
        type: 'line',
        // Small dots as well as lines: sparse readings (an hourly history) stay visible,
        // and a gap in the data stays a gap.
        showSymbol: true,
        symbolSize: 3,
        connectNulls: false,
        data: s.data.map(([t, v]) => [t + shift, v]),
      })),
    };
  }

  function stationMap(spec, data) {
    // The townships' outlines become a GeoJSON map of their own, so ECharts keeps the
    // true proportions of longitude and latitude, labels each township and lets one zoom.
    const colors = {fault: '#b91c1c', warning: '#d97706', offline: '#6b7280', ok: '#16a34a', unknown: '#9ca3af'};
    echarts.registerMap('townships', {
      type: 'FeatureCollection',
      features: data.townships.map((t) => ({
        type: 'Feature',
        properties: {name: t.name},
        geometry: {type: 'Polygon', coordinates: [t.outline]},
      })),
    });
    const counts = (states) =>
      Object.keys(colors)
        .filter((state) => states[state])
        .map((state) => `${spec.states[state] || state} ${states[state]}`)
        .join('<br>');
    const byName = Object.fromEntries(data.townships.map((t) => [t.name, t]));
    const geo = {
      map: 'townships',
      roam: true,
      top: 32,
      bottom: 32,
      label: {show: data.townships.length <= 60, color: '#334155', fontWeight: 'bold'},
      itemStyle: {areaColor: '#f1f5f9', borderColor: '#94a3b8', borderType: 'dashed'},
      emphasis: {label: {show: true}, itemStyle: {areaColor: '#e2e8f0'}},
    };
    const tooltip = (p) =>
      p.seriesType === 'scatter' ? `${p.data[3]}<br>${p.seriesName}` : `${p.name}<br>${counts((byName[p.name] || {}).states || {})}`;
    if (data.stations.length === 0 && data.stations_in_scope > 0) {
      // A province: too many stations to draw one by one. Each township is shaded by the
      // share of its stations that are not running normally; its counts are in the tooltip.
      const share = (s) => {
        const total = Object.values(s).reduce((a, b) => a + b, 0);
        return total ? (total - (s.ok || 0)) / total : 0;
      };
      const shares = data.townships.map((t) => ({name: t.name, value: share(t.states)}));
      return {
        title: title(spec),
        tooltip: {trigger: 'item', formatter: tooltip},
        geo: {...geo, label: {...geo.label, show: false}},
        visualMap: {
          min: 0,
          max: Math.max(0.05, ...shares.map((s) => s.value)),
          text: [spec.share_label, ''],
          calculable: false,
          left: 0,
          bottom: 0,
          inRange: {color: ['#dcfce7', '#fde68a', '#b91c1c']},
          formatter: (v) => `${Math.round(v * 100)}%`,
        },
        series: [{type: 'map', geoIndex: 0, data: shares}],
      };
    }
    const stations = Object.keys(colors).map((state) => ({
      type: 'scatter',
      coordinateSystem: 'geo',
      name: spec.states[state] || state,
      symbolSize: 6,
      itemStyle: {color: colors[state]},
      data: data.stations.filter((s) => s[4] === state),
    }));
    return {
      title: title(spec),
      legend: {bottom: 0, data: stations.map((s) => s.name)},
      tooltip: {trigger: 'item', formatter: tooltip},
      geo,
      series: stations,
    };
  }

  const builders = {bars, pie, lines};

  function draw(element, spec) {
    const chart = echarts.init(element, null, {locale});
    // No animation: a weak phone draws the final chart at once, and a screenshot shows it.
    const still = (option) => ({animation: false, ...option});
    window.addEventListener('resize', () => chart.resize());
    if (spec.kind === 'map') {
      fetch(spec.url, {credentials: 'same-origin'})
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status))))
        .then((data) => chart.setOption(still(stationMap(spec, data))))
        .catch(() => element.setAttribute('data-failed', 'true'));
      return;
    }
    chart.setOption(still(builders[spec.kind](spec)));
  }

  document.querySelectorAll('[data-chart]').forEach((element) => {
    const source = document.querySelector(`script[data-chart-for="${element.id}"]`);
    if (source) draw(element, JSON.parse(source.textContent));
  });
})();
