CREATE INDEX "api_keys_tenant_id" ON "api_keys" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "roles_tenant_id" ON "roles" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "clusters_tenant_id" ON "clusters" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "images_tenant_id" ON "images" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "registries_tenant_id" ON "registries" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "runtime_policies_tenant_id" ON "runtime_policies" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "runtime_profiles_tenant_id" ON "runtime_profiles" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "scopes_tenant_id" ON "scopes" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "signature_validators_tenant_id" ON "signature_validators" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "webhooks_tenant_id" ON "webhooks" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "assurance_policies_tenant_id" ON "assurance_policies" USING btree ("tenant_id","id");