"""The store staff web UI: work queue, ship-from-store, pickup handover (``work``), stock and
endless aisle (``stock``), suppliers' deliveries due (``deliveries``). The returns desk lives in
the returns app under the same /store/ URLs."""
