/** One entry of the feed or the catalogue: cover, title, summary, tags, price or lock, the Reason, and a 广告 label. */
Component({
  properties: {
    entry: { type: Object, value: {} },
  },
  methods: {
    onTap() {
      this.triggerEvent('pick', { id: (this.data.entry as { id?: string }).id });
    },
  },
});
