// Agent schedules the SQL Server tests share: a DBA's nightly run and the vendor's every-5-minutes
// schedule, as msdb.dbo.sysschedules rows and as the ScheduleTiming replup reads from them.
import type { ScheduleTiming } from '../../../activities/ports.js';

/** Daily (freq_type 4), once (freq_subday_type 1) at 02:00:00, from 2024-01-01 on. */
export const NIGHTLY: ScheduleTiming = {
  freqType: 4,
  freqInterval: 1,
  freqSubdayType: 1,
  freqSubdayInterval: 0,
  freqRelativeInterval: 0,
  freqRecurrenceFactor: 0,
  activeStartDate: 20240101,
  activeEndDate: 99991231,
  activeStartTime: 20000,
  activeEndTime: 235959,
};

/** Daily, every 5 minutes (freq_subday_type 4, interval 5) all day: the vendor's merge agent schedule. */
export const EVERY_5_MINUTES: ScheduleTiming = {
  ...NIGHTLY,
  freqSubdayType: 4,
  freqSubdayInterval: 5,
  activeStartTime: 0,
};

/** EVERY_5_MINUTES as its msdb.dbo.sysschedules columns. */
export const EVERY_5_MINUTES_ROW = {
  freq_type: 4,
  freq_interval: 1,
  freq_subday_type: 4,
  freq_subday_interval: 5,
  freq_relative_interval: 0,
  freq_recurrence_factor: 0,
  active_start_date: 20240101,
  active_end_date: 99991231,
  active_start_time: 0,
  active_end_time: 235959,
};
