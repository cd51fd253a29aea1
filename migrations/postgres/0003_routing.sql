-- A merchant's routing settings: default ordering rule and advanced rules (JSON).
CREATE TABLE routing_settings (
    merchant_id BIGINT PRIMARY KEY REFERENCES merchants(id),
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
