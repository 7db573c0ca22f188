"""The European Federation Gateway's formats: diagnosis-key batches, their canonical bytes and signatures; no Django."""
