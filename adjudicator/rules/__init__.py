"""The rule tables (contract section 3): loading and checking them, the payer aliases, the helper process that
runs their pandera schemas, and the rules compiled once per run into what a batch needs."""
