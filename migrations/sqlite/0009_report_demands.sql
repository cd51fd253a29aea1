-- File reports asked for a period (`POST /file-reporting/v1/report-demands`); the file is
-- built from the payments of that period when it is downloaded (`reportPeriod` INSTANT).
CREATE TABLE report_demands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    report_type TEXT NOT NULL,
    report_period TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX report_demands_merchant ON report_demands(merchant_id, id);
