"""Watch folders: new images in chosen folders are optimized as they appear.

    events.py     watchdog's filesystem events, reduced to "look at this path"
    stability.py  when a file is complete (size, mtime, inode unchanged for a settle time)
    ledger.py     SQLite: what was done (path, stat, content hash, result); one process owns it
    service.py    WatchService: the loop (events, health, rescans), batches into ImageOptimizer
    activity.py   the last files and counts, for the window and the CLI
    manager.py    the app's saved folder list around one service; store.py keeps the list
    commands.py   add_watch_folder / remove_watch_folder / get_watch_status for the registry
    cli.py        ``image-optimizer watch DIR...``

Each module's docstring holds its decisions.
"""
