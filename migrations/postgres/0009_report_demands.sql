-- File reports asked for a period (`POST /file-reporting/v1/report-demands`); the file is
-- built from the payments of that period when it is downloaded (`reportPeriod` INSTANT).
CREATE TABLE report_demands (
    id BIGSERIAL PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    report_type TEXT NOT NULL,
    report_period TEXT NOT NULL,
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX report_demands_merchant ON report_demands(merchant_id, id);
