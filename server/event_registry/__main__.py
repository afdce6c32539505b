from event_registry.cli import main

main()
