DROP INDEX "events_signal_type_recorded_at_idx";--> statement-breakpoint
DROP INDEX "sagas_in_flight_updated_at_idx";--> statement-breakpoint
CREATE INDEX "events_signal_type_recorded_at_idx" ON "events" USING btree ("type","recorded_at") WHERE event_type_is_signal("events"."type");--> statement-breakpoint
CREATE INDEX "sagas_in_flight_updated_at_idx" ON "order_fulfillment_sagas" USING btree ("updated_at") WHERE not saga_state_is_terminal("order_fulfillment_sagas"."state");