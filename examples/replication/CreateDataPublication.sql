-- Example written for replup's lab fleet (examples/replication/README.md): NOT a vendor file.
-- Ivanti/AppSense ship their own Replication folder; point the plan's scripts.dir at it for a real fleet.
-- Creates the Data merge publication on the publisher (SetMasterUp's second half).
-- Run on the publisher: sqlcmd -S $(PublisherServer) -d $(PublisherDatabase) -v Publication=Data ...
:on error exit
USE [$(PublisherDatabase)]
GO
EXEC sp_replicationdboption @dbname = N'$(PublisherDatabase)', @optname = N'merge publish', @value = N'true'
GO
EXEC sp_addmergepublication @publication = N'$(Publication)',
    @description = N'Personalization Server Data Merge Publication',
    @retention = 14, @sync_mode = N'native', @allow_push = N'true', @allow_pull = N'true',
    @conflict_logging = N'both'
GO
EXEC sp_addpublication_snapshot @publication = N'$(Publication)', @frequency_type = 1
GO
EXEC sp_addmergearticle @publication = N'$(Publication)', @article = N'ProfileData',
    @source_owner = N'dbo', @source_object = N'ProfileData', @type = N'table',
    @column_tracking = N'true'
GO
EXEC sp_startpublication_snapshot @publication = N'$(Publication)'
GO
